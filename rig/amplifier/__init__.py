"""The patch-clamp amplifier: headstage, compensation, filter, digitiser, and the
membrane test."""
