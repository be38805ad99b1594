"""The window's protocol Open with files that are not protocols: a FIFO, a device, a
symlink to one, duplicate keys, a lone surrogate. Each is refused at once with the
reason, and the protocol shown before stays."""

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from ui.panels.protocol_dock import ProtocolDock

GOOD = {"format": "vrig-protocol", "version": 1, "name": "good", "mode": "VC",
        "epochs": [{"kind": "step", "duration_ms": 1, "level": -65}]}


def _fifo(folder):
    os.mkfifo(folder / "fifo.json")
    return folder / "fifo.json", "not a regular file"


def _zero_link(folder):
    (folder / "zero.json").symlink_to("/dev/zero")
    return folder / "zero.json", "not a regular file"


def _duplicate(folder):
    (folder / "dup.json").write_text(json.dumps(GOOD)[:-1] + ', "mode": "CC"}')
    return folder / "dup.json", "appears twice"


def _surrogate(folder):
    (folder / "sur.json").write_text(json.dumps({**GOOD, "name": "\ud800"}))
    return folder / "sur.json", "not valid Unicode"


CASES = {"fifo": _fifo, "symlink-to-dev-zero": _zero_link, "duplicate-key": _duplicate,
         "lone-surrogate": _surrogate}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_windows_open_refuses_what_is_not_a_protocol(case, qtbot, tmp_path):
    dock = ProtocolDock()
    qtbot.addWidget(dock)
    before = dock.load_shipped("vc-iv-family")
    messages = []
    dock.error.connect(messages.append)
    path, reason = CASES[case](tmp_path)
    assert dock.load_file(path) is None
    shown = " ".join(messages)
    designer = dock.designer
    if designer is not None:
        shown += designer.message_box.text()
        assert designer.protocol() == before
    assert reason in shown
