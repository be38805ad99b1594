"""Acquisition: commands to the engine, the real-time runner and its pacing,
live recording, and runs written straight to a file."""
