"""Markov channel schemes as data: the HH-equivalent schemes have exactly the HH
mean, the allosteric Na scheme is consistent, and bad scheme files are refused."""

import copy
import json

import numpy as np
import pytest
from scipy.linalg import expm

from rig import resources
from rig.errors import VrigError
from rig.model.channels import load_channel
from rig.model.markov import load_scheme, scan_schemes, scheme_from_channel, scheme_from_dict


def _occupancy_after(scheme, v0_mv, v1_mv, times_ms, phi=1.0):
    """Occupancies (n_t, n_states) after a step from steady state at v0 to v1: the
    exact solution p(t) = p0 expm(Q t) of the master equation."""
    p0 = scheme.stationary(v0_mv)
    q = scheme.generator(v1_mv, phi)
    return np.array([p0 @ expm(q * t) for t in times_ms])


def _gate(gate, v0_mv, v1_mv, times_ms, phi=1.0):
    x0 = gate.steady_state(v0_mv)
    xi = gate.steady_state(v1_mv)
    return xi + (x0 - xi) * np.exp(-np.asarray(times_ms) / gate.time_constant_ms(v1_mv, phi))


def test_every_shipped_scheme_loads():
    good, problems = scan_schemes()
    assert problems == []
    assert {"hh-na-markov", "hh-k-markov", "kuo-bean-na"} <= set(good)


@pytest.mark.parametrize("v1", [-100.0, -40.0, 0.0, 40.0])
def test_na_scheme_mean_is_m3h_for_a_voltage_step(v1):
    scheme = load_scheme("hh-na-markov")
    na = load_channel("hh-na")
    m_gate, h_gate = na.gates
    t = np.linspace(0.0, 10.0, 41)
    phi = na.phi(18.5)  # away from the reference temperature: phi scales every rate alike
    p_open = scheme.open_probability(_occupancy_after(scheme, -65.0, v1, t, phi).T)
    expected = _gate(m_gate, -65.0, v1, t, phi) ** 3 * _gate(h_gate, -65.0, v1, t, phi)
    np.testing.assert_allclose(p_open, expected, rtol=1e-9, atol=1e-13)


@pytest.mark.parametrize("v1", [-100.0, -40.0, 0.0, 40.0])
def test_k_scheme_mean_is_n4_for_a_voltage_step(v1):
    scheme = load_scheme("hh-k-markov")
    n_gate = load_channel("hh-k").gates[0]
    t = np.linspace(0.0, 20.0, 41)
    p_open = scheme.open_probability(_occupancy_after(scheme, -65.0, v1, t).T)
    np.testing.assert_allclose(p_open, _gate(n_gate, -65.0, v1, t) ** 4, rtol=1e-9,
                               atol=1e-13)


@pytest.mark.parametrize(("file", "channel"), [("hh-na-markov", "hh-na"),
                                                ("hh-k-markov", "hh-k")])
def test_shipped_hh_schemes_equal_the_ones_built_from_the_channels(file, channel):
    shipped = load_scheme(file)
    built = scheme_from_channel(load_channel(channel))
    assert shipped.unitary_conductance_ps == built.unitary_conductance_ps
    # the same states under the same names may come in another order
    order = [built.states.index(s) for s in shipped.states]
    for v in (-80.0, -40.0, 10.0):
        np.testing.assert_allclose(shipped.generator(v),
                                   built.generator(v)[np.ix_(order, order)], rtol=1e-12)
    assert [built.states[i] for i in built.open_states] == [
        shipped.states[i] for i in shipped.open_states]


def test_kuo_bean_scheme_is_microscopically_reversible_and_inactivates_from_closed_states():
    scheme = load_scheme("kuo-bean-na")
    for v in (-100.0, -60.0, 0.0, 30.0):
        p = scheme.stationary(v)
        q = scheme.generator(v)
        flux = p[:, None] * q
        np.testing.assert_allclose(flux, flux.T, atol=1e-12 * np.abs(flux).max())
    # Closed-state inactivation: at -50 mV most channels are inactivated although
    # fewer than 1 in 300 is open at any moment.
    p = scheme.stationary(-50.0)
    inactivated = sum(p[scheme.states.index(s)] for s in scheme.states if s.startswith("I"))
    assert inactivated > 0.75
    assert scheme.open_probability(p) < 1 / 300


def test_kuo_bean_inactivation_is_coupled_to_activation():
    """The rate of entering inactivation grows with each activation step (by a =
    (O_on/C_on)^(1/4)); in an m^3 h channel it would be the same from every state."""
    scheme = load_scheme("kuo-bean-na")
    q = scheme.generator(0.0)
    into_i = [q[scheme.states.index(f"C{k}"), scheme.states.index(f"I{k}")] for k in range(1, 6)]
    ratios = np.array(into_i[1:]) / np.array(into_i[:-1])
    np.testing.assert_allclose(ratios, (0.75 / 0.005) ** 0.25, rtol=1e-9)


def _raw(name):
    return resources.load_preset("schemes", name)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["transitions"][0].update(factor=-3), "factor must be positive"),
    (lambda d: d["rates"]["alpha_n"].update(rate_per_ms=-0.01), "outside the allowed"),
    (lambda d: d.update(unitary_conductance_pS=0), "unitary conductance"),
    (lambda d: d.update(unitary_conductance_pS=-5), "unitary conductance"),
    (lambda d: d.update(transitions=d["transitions"][:6]), "cannot be reached"),
    (lambda d: d.update(transitions=[t for t in d["transitions"]
                                     if t["from"] != "n4"]), "lead back"),
    (lambda d: d.update(open=["n5"]), "open must list"),
    (lambda d: d["transitions"][0].update(to="n9"), "to must be one of the states"),
    (lambda d: d["transitions"][0].update(rate="gamma"), "is not one of the scheme's rates"),
    (lambda d: d.update(states=["n0", "n0", "n1", "n2", "n3", "n4"]), "appear once"),
])
def test_bad_schemes_are_refused_with_a_clear_message(change, message):
    data = copy.deepcopy(_raw("hh-k-markov"))
    change(data)
    with pytest.raises(VrigError, match=message):
        scheme_from_dict(json.loads(json.dumps(data)), "bad")
