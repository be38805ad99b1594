"""The simulation: what is stepped and how.

- :mod:`~rig.simulation.state`: the arrays the kernel advances (V per compartment,
  gates per compartment, the electrode, room for per-channel state);
- :mod:`~rig.simulation.membrane`: a cell in its solutions compiled to arrays, and the
  compiled-model record (:class:`~rig.simulation.layout.KernelModel`) a kernel takes;
- :mod:`~rig.simulation.reference`: the membrane's equations in Python, for the steady
  state, stability, relaxation and the tests;
- :mod:`~rig.simulation.kernel`: the compiled steps, one per clamp configuration;
  :mod:`~rig.simulation.cable_kernel`: the same on a row of compartments (a fibre),
  with :mod:`~rig.simulation.cable` (the fibre's record, placement, local changes) and
  :mod:`~rig.simulation.fibre` (a fibre from Python, conduction velocity);
  :mod:`~rig.simulation.registry`: which kernel a model needs;
  :mod:`~rig.simulation.layout`: the kernel's array layout;
- :mod:`~rig.simulation.engine` (``Rig``) with :mod:`~rig.simulation.model_cache`,
  :mod:`~rig.simulation.stepping`, :mod:`~rig.simulation.steady_state` and
  :mod:`~rig.simulation.metadata`; :mod:`~rig.simulation.episodes`: protocol runs.
"""
