"""The look: themes (dark, light high contrast), large text, trace colours."""
