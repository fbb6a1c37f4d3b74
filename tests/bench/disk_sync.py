"""How long the disk the benchmark's databases live on takes to make a commit
durable, measured the way the store's WAL does it, so a throughput run can say
what the disk did beside what the proxies did.

    disk_sync_us(directory) -> (p50, p90) microseconds
"""

import os
import time
from pathlib import Path


def disk_sync_us(directory: Path, syncs: int = 200) -> tuple[float, float]:
    """p50 and p90 microseconds of a commit's disk work, as the store's WAL
    does it: five 16 KiB pages written into a 16 MB file that no longer grows,
    then fdatasync. Every committed batch of uploads waits for this, on the
    disk the benchmark's databases are on."""
    path = directory / "disk-sync-probe"
    # 1000 pages: where sqlite checkpoints the WAL and starts writing it from the top again
    page, pages_per_sync, file_pages = os.urandom(16384), 5, 1000
    times = []
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, page * file_pages, 0)
        os.fdatasync(fd)
        for i in range(syncs):
            start = (i * pages_per_sync) % (file_pages - pages_per_sync)
            os.pwrite(fd, page * pages_per_sync, start * len(page))
            started = time.perf_counter()
            os.fdatasync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return times[len(times) // 2] * 1e6, times[len(times) * 9 // 10] * 1e6
