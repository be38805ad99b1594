"""The physical model as data and equations: channels, cells, solutions, drugs,
ion physics and the limits of what a real preparation allows. Pure numpy; no numba."""
