"""CSV export of recordings, streamed: ``# key: value`` metadata lines, then
``sweep,time_ms,<name>_<unit>,...`` and one row per sample, written a block at a time.
"""

import numpy as np

from rig.files import output_files
from rig.files.recording import BLOCK_SAMPLES, FILE_UNITS, file_column, one_line


def write_csv(source, names, path):
    """Write the signals `names` of a sweep source to a CSV file at path."""
    scales = [FILE_UNITS[source.units[n]][1] for n in names]
    columns = [file_column(n, source.units[n]) for n in names]
    fmt = ",".join(["%d", "%.5f"] + ["%.7g"] * len(names))
    interval_ms = source.sample_interval_s * 1e3
    with output_files.open_for_writing(path) as handle:
        header = "".join(f"# {one_line(k)}: {one_line(v)}\n" for k, v in source.metadata.items())
        header += ",".join(["sweep", "time_ms"] + columns) + "\n"
        handle.write(header.encode("utf-8", "backslashreplace"))
        for k, length in enumerate(source.sweep_lengths):
            for start in range(0, int(length), BLOCK_SAMPLES):
                values = source.read(k, start, start + BLOCK_SAMPLES, names)
                n = values[0].size
                block = np.column_stack([np.full(n, k), (start + np.arange(n)) * interval_ms]
                                        + [v * s for v, s in zip(values, scales)])
                np.savetxt(handle, block, fmt=fmt)
