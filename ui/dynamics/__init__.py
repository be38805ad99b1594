"""The Dynamics tab: bifurcation diagram, phase plane, f-I curve up and down, and
parameter sweeps, each computed off the GUI thread by rig.dynamics."""
