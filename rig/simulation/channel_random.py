"""The random numbers of channel gating, compiled: a seeded stream and the draws the
Markov kernel needs (rig.simulation.stochastic_kernel), inlined into its loops.

The stream is xoshiro256+ (Blackman & Vigna 2021, ACM Trans. Math. Softw. 47:36), its
state four 64-bit words in a numpy array that the kernel advances in place, so a run
is reproducible from the rig's seed and successive blocks continue one stream. Called
through a numpy Generator from compiled code, every draw went through a function
pointer and rebuilt its set-up; here a uniform is ~1 ns and is inlined.

Binomial draws (the multinomial update's, thousands of channels a step) are exact in
distribution: by inversion of the cumulative distribution when n p < INVERSION_MAX_NP,
otherwise by Hormann's (1993) transformed rejection with squeeze, BTRS (J. Statist.
Comput. Simul. 46:101-110), whose acceptance test uses Stirling's series with the
exact tail for k < 10.
"""

import math

import numpy as np
from numba import njit, uint64

STATE_WORDS = 4
INVERSION_MAX_NP = 10.0  # BTRS is valid from here (Hormann 1993) and faster above it
STIRLING_EXACT_BELOW = 10
# log(k!) - [(k + 1/2) log(k + 1) - (k + 1) + log(2 pi) / 2] for k < STIRLING_EXACT_BELOW:
# the tail Stirling's series approximates above it
STIRLING_TAIL = tuple(math.lgamma(k + 1.0) - (k + 0.5) * math.log(k + 1.0) + (k + 1.0)
                      - 0.5 * math.log(2.0 * math.pi) for k in range(STIRLING_EXACT_BELOW))
TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53: the top 53 bits of a word as [0, 1)


def new_stream(seed: int, stream: int) -> np.ndarray:
    """A fresh state (STATE_WORDS uint64) for the seed and the stream number: the same
    pair gives the same draws, different streams independent ones (SeedSequence)."""
    words = np.random.SeedSequence([seed, stream]).generate_state(STATE_WORDS, np.uint64)
    if not words.any():  # the one state xoshiro never leaves
        words[0] = 1
    return words


@njit(nogil=True, cache=True, inline="always")
def _rotate_left(x, k):
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(nogil=True, cache=True, inline="always")
def uniform(state):
    """A uniform draw on [0, 1); advances state."""
    result = state[0] + state[3]
    shifted = state[1] << uint64(17)
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= shifted
    state[3] = _rotate_left(state[3], 45)
    return (result >> uint64(11)) * TO_UNIT


@njit(nogil=True, cache=True, inline="always")
def exponential(state, mean):
    """An exponential draw with the given mean (any unit)."""
    return -math.log1p(-uniform(state)) * mean


@njit(nogil=True, cache=True, inline="always")
def _stirling_tail(k):
    if k < STIRLING_EXACT_BELOW:
        return STIRLING_TAIL[k]
    inv = 1.0 / (k + 1.0)
    inv2 = inv * inv
    return (1.0 / 12.0 - (1.0 / 360.0 - inv2 / 1260.0) * inv2) * inv


@njit(nogil=True, cache=True)
def _inversion(state, n, p):
    """Binomial(n, p), p <= 1/2, by sequential search of the cumulative distribution
    from 0 (about n p + 1 steps; restarted, rarely, past mean + 10 sd). A uniform
    below 1 - n p gives 0 at once, as the search would: most draws when n p is small."""
    u = uniform(state)
    if u <= 1.0 - n * p:  # P(0) = (1 - p)^n >= 1 - n p: no need to compute it
        return 0
    q = 1.0 - p
    at_zero = math.exp(n * math.log1p(-p))
    ratio = p / q
    bound = min(n, n * p + 10.0 * math.sqrt(n * p * q + 1.0))
    k = 0
    pk = at_zero
    while u > pk:
        k += 1
        if k > bound:
            k = 0
            pk = at_zero
            u = uniform(state)
        else:
            u -= pk
            pk *= (n - k + 1) * ratio / k
    return k


@njit(nogil=True, cache=True)
def _btrs(state, n, p):
    """Binomial(n, p), p <= 1/2 and n p >= INVERSION_MAX_NP, by Hormann's BTRS."""
    spq = math.sqrt(n * p * (1.0 - p))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    r = p / (1.0 - p)
    alpha = (2.83 + 5.1 / b) * spq
    m = int((n + 1) * p)
    head = math.nan  # the bound's part that does not depend on k, at first need
    while True:
        u = uniform(state) - 0.5
        v = uniform(state)
        us = 0.5 - abs(u)
        k = int(math.floor((2.0 * a / us + b) * u + c))
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or k > n:
            continue
        v = math.log(v * alpha / (a / (us * us) + b))
        if math.isnan(head):
            head = ((m + 0.5) * math.log((m + 1.0) / (r * (n - m + 1.0)))
                    + _stirling_tail(m) + _stirling_tail(n - m))
        bound = (head + (n + 1.0) * math.log((n - m + 1.0) / (n - k + 1.0))
                 + (k + 0.5) * math.log(r * (n - k + 1.0) / (k + 1.0))
                 - _stirling_tail(k) - _stirling_tail(n - k))
        if v <= bound:
            return k


@njit(nogil=True, cache=True)
def binomial(state, n, p):
    """A Binomial(n, p) draw (an integer in 0..n), exact in distribution."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    flip = p > 0.5
    if flip:
        p = 1.0 - p
    k = _inversion(state, n, p) if n * p < INVERSION_MAX_NP else _btrs(state, n, p)
    return n - k if flip else k
