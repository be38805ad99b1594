"""Teaching: instructor exercises with hidden answers and lessons as data (Qt-free)."""
