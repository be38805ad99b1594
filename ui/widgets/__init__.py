"""Small widgets of the instrument: the holding knob, scrolling pages."""
