"""One crawl at a time per index: an advisory lock on a file in the data dir.

flock(2) locks belong to the open file, so the operating system drops the lock when its holder exits,
however it exits (kill -9 included): a crashed crawl never blocks the next one. The file holds the
holder's pid and start time, for the "already running" message.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from pathlib import Path

from precedent.ingest.errors import PrecedentError
from precedent.ingest.settings import Settings

LOCK_FILE = "crawl.lock"


class CrawlAlreadyRunning(PrecedentError):
    """Another crawl holds this index's lock: nothing to do now (a scheduled run simply skips)."""


class CrawlLock:
    def __init__(self, settings: Settings) -> None:
        self.path = Path(settings.data_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, *, sign: bool = True) -> None:
        """Take the lock without waiting; CrawlAlreadyRunning says who holds it.

        ``sign`` writes this process's pid and start time into the file; a mere probe does not.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise CrawlAlreadyRunning(f"a crawl is already running on {self.path.parent} ({holder}); "
                                      "this one has nothing to do") from None
        if sign:
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()}, started {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> CrawlLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def crawl_running(settings: Settings) -> bool:
    """Whether some process holds the crawl lock right now (probing takes and drops it at once)."""
    probe = CrawlLock(settings)
    if not probe.path.exists():
        return False
    try:
        probe.acquire(sign=False)
    except CrawlAlreadyRunning:
        return True
    probe.release()
    return False
