"""Dynamics of point cells (equilibria, their stability, Hopf points, periodic orbits,
Floquet multipliers, the fold of cycles) and batch experiments (parameter sweeps).
Qt-free; built on the reference right-hand side (rig.simulation.reference)."""
