"""Analysis of recordings, Qt-free: cursor windows, I-V and G-V, inactivation and
recovery, spikes, fits, and the table the window and `vrig analyze` show."""
