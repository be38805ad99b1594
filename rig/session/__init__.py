"""The session: a Qt-free model of what the rig window shows and the user chose (the
cell, the clamp mode and its holdings, the speed, whether it runs, records or runs a
protocol, the engine's latest settings), with an event for each. The window's panels
take the session and follow its events; a lesson, a kiosk or a test can drive the same
session without a window."""
