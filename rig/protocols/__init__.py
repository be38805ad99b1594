"""Stimulus protocols: episodic epochs (Clampex-style), their files and rendering."""
