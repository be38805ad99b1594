"""The version of vRig (read by pyproject.toml and written into every file)."""

__version__ = "0.1.0"
