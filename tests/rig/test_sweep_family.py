"""SweepFamily, the Qt-free model of a protocol's sweeps that the window's Analysis tab
fills from chunks and `vrig analyze` builds from a file: the same numbers either way."""

import numpy as np
import pytest

import rig
from rig.acquisition import commands as c
from rig.analysis.report import analyze
from rig.analysis.sweep_family import SweepFamily
from rig.clamp import Mode
from rig.frozen import FrozenMap


@pytest.fixture(scope="module")
def iv():
    protocol = rig.load_protocol("vc-iv-family")
    return protocol, rig.Rig.from_presets("hh-squid").run(protocol)


def facts(result):
    return {f.name: f.value for f in result.facts}


def test_a_recorded_family_knows_its_stimulus(iv):
    _, recording = iv
    family = SweepFamily.from_recording(recording)
    assert (family.mode, family.n_sweeps, family.holding) == (Mode.VC, 15, -0.065)
    assert family.n_epochs() == 3 and family.varying_epochs() == [1]
    assert family.test_epoch() == 1
    assert family.epoch_span(0, 1) == pytest.approx((0.010, 0.030))
    assert family.epoch_levels(3, 1) == pytest.approx((-0.050, -0.050))  # -80 + 3 x 10 mV


def test_chunks_and_a_file_give_the_same_analysis(iv):
    """The tab fills a family chunk by chunk while the protocol runs; vrig analyze reads
    the file: both give the I-V reversal of the ideally clamped HH membrane (43.5551 mV,
    below E_Na = 50.08 mV because I_K already flows at the Na peak)."""
    protocol, recording = iv
    live = SweepFamily.for_protocol(protocol)
    for k in range(recording.n_sweeps):
        half = recording.sweep_lengths[k] // 2
        for first, stop in ((0, half), (half, recording.sweep_lengths[k])):
            signals = {n: recording.signals[n][k, first:stop] for n in recording.signals}
            live.add(c.Chunk("sweep", k, int(first), recording.sample_interval_s, Mode.VC,
                             FrozenMap(signals)))
        live.sweep_done(k)
    from_file = facts(analyze(SweepFamily.from_recording(recording)))
    from_chunks = facts(analyze(live))
    assert from_chunks == from_file
    assert from_file["E_rev"] == pytest.approx(43.5551, abs=1e-3)
    assert from_file["GV_V_half"] == pytest.approx(-16.518, abs=1e-3)


def test_without_its_protocol_the_epochs_come_from_the_command(iv):
    _, recording = iv
    bare = rig.Recording(recording.signals, recording.units, recording.sweep_lengths,
                         recording.sample_interval_s,
                         {k: v for k, v in recording.metadata.items() if k != "protocol_json"})
    family = SweepFamily.from_recording(bare)
    assert family.epoch_starts[0] == (0, 500, 1500)
    assert facts(analyze(family))["E_rev"] == pytest.approx(43.5551, abs=1e-3)


def test_an_inactivation_family_is_about_the_step_after_its_prepulse():
    recording = rig.Rig.from_presets("hh-squid").run(rig.load_protocol("vc-inactivation"))
    family = SweepFamily.from_recording(recording)
    assert family.varying_epochs() == [1] and family.test_epoch() == 2
    assert analyze(family).kind == "h-inf"


def test_a_chunk_outside_the_family_is_ignored():
    family = SweepFamily.for_protocol(rig.load_protocol("vc-iv-family"))
    family.add(c.Chunk("sweep", 99, 0, 2e-5, Mode.VC, FrozenMap(Im=np.zeros(3))))
    assert family.data == {}
