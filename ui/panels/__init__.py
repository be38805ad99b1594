"""The window's panels and docks: amplifier, compensation, membrane test, bath and
drugs, protocol designer, analysis, recording."""
