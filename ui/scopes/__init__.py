"""The scopes: traces, sweep overlays and their legend, cursors, ranges, export."""
