"""The window's teaching parts: the lesson dock, exercises and the worksheet."""
