"""Qt tests run headless: the offscreen platform is chosen before any Qt import."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
