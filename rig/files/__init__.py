"""Recordings and their files: the Recording value, the crash-safe journal, and
one writer/reader per format (CSV, NPZ, ABF, NWB) chosen by suffix."""
