"""The simulation: the compiled kernel, the membrane equations in Python, the
engine (Rig) that steps a cell under the amplifier, steady states and episodes."""
