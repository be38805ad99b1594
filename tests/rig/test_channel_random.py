"""The compiled random stream of channel gating: reproducible from its seed, and its
binomial, uniform and exponential draws distributed as they should be.

Statistical tests use fixed seeds; each states its false-failure rate for a random seed.
"""

import numpy as np
import pytest
from numba import njit
from scipy import stats

from rig.simulation import channel_random
from rig.simulation.channel_random import binomial, exponential, uniform

DRAWS = 200_000
# each chi-square or KS test below fails by chance at this rate for a random seed
P_FALSE_FAILURE = 1e-4


@njit
def _binomials(state, n, p, size):
    out = np.empty(size, np.int64)
    for i in range(size):
        out[i] = binomial(state, n, p)
    return out


@njit
def _uniforms(state, size):
    out = np.empty(size)
    for i in range(size):
        out[i] = uniform(state)
    return out


@njit
def _exponentials(state, mean, size):
    out = np.empty(size)
    for i in range(size):
        out[i] = exponential(state, mean)
    return out


def _chi_square_p(draws, n, p):
    """The p-value of draws against Binomial(n, p), the outer tails (1e-7 each) pooled
    and bins expected below 5 counts left out."""
    lo = int(stats.binom.ppf(1e-7, n, p))
    hi = int(stats.binom.isf(1e-7, n, p))
    inner = np.arange(lo + 1, hi)
    observed = np.r_[np.sum(draws <= lo), [np.sum(draws == k) for k in inner],
                     np.sum(draws >= hi)]
    expected = draws.size * np.r_[stats.binom.cdf(lo, n, p), stats.binom.pmf(inner, n, p),
                                  stats.binom.sf(hi - 1, n, p)]
    keep = expected >= 5
    chi = np.sum((observed[keep] - expected[keep]) ** 2 / expected[keep])
    return stats.chi2.sf(chi, keep.sum() - 1)


# both algorithms (inversion below n p = 10, BTRS above), both sides of p = 1/2, the
# sizes of a patch and of a whole cell's states, and the shortcut to 0 at small n p
@pytest.mark.parametrize("n, p", [(1, 0.3), (12, 0.9), (30, 0.01), (200, 0.049),
                                  (200, 0.051), (1000, 0.0099), (36_000, 0.0067),
                                  (5000, 0.3), (60_000, 0.95), (101, 0.5)])
def test_binomial_draws_follow_the_binomial_distribution(n, p):
    draws = _binomials(channel_random.new_stream(11, n), n, p, DRAWS)
    assert draws.min() >= 0 and draws.max() <= n
    assert _chi_square_p(draws, n, p) > P_FALSE_FAILURE
    # mean to 5 standard errors (false failure 6e-7)
    assert abs(draws.mean() - n * p) < 5 * np.sqrt(n * p * (1 - p) / DRAWS)


def test_binomial_edges_are_certain():
    state = channel_random.new_stream(1, 0)
    assert [binomial(state, 0, 0.5), binomial(state, 10, 0.0), binomial(state, 10, 1.0),
            binomial(state, -3, 0.5)] == [0, 0, 10, 0]


def test_uniform_and_exponential_draws_have_their_distributions():
    state = channel_random.new_stream(3, 0)
    u = _uniforms(state, DRAWS)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > P_FALSE_FAILURE
    e = _exponentials(state, 2.5, DRAWS)
    assert stats.kstest(e, "expon", args=(0, 2.5)).pvalue > P_FALSE_FAILURE


def test_a_stream_is_reproducible_from_its_seed_and_streams_differ():
    a, b, c = (channel_random.new_stream(5, 2), channel_random.new_stream(5, 2),
               channel_random.new_stream(5, 3))
    np.testing.assert_array_equal(_uniforms(a, 100), _uniforms(b, 100))
    assert not np.array_equal(_uniforms(a, 100), _uniforms(c, 100))
    # the state advances in place: the next block continues the stream
    assert not np.array_equal(_uniforms(a, 100), _uniforms(channel_random.new_stream(5, 2), 100))
