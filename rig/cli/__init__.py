"""The `vrig` command line (Qt-free parts): run, list, analyze, bench."""
