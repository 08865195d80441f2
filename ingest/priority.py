"""CPU priority for background writes, so that a server's searches keep the CPU while it ingests.

A server that takes uploads and crawls on two cores shares them between its readers and its writers.
The writers' work (parsing, embedding) can wait a few seconds; a search should not. So the server runs
its writes in a thread with a higher nice value (``PRECEDENT_WRITER_NICE``), and the work that thread
hands on, the encoder's threads and the parse worker process, runs at that thread's priority too
(``thread_nice`` tells them what it is).

Linux keeps a nice value per thread, so lowering one thread's priority leaves the rest of the process
alone. Elsewhere ``setpriority`` would lower the whole process, searches included, so it is not done.
An unprivileged process can lower its priority but never raise it again: a thread niced here stays
niced, which is why writes get threads of their own.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

PER_THREAD = sys.platform.startswith("linux") and hasattr(os, "setpriority")


def thread_nice() -> int:
    """The calling thread's nice value (0 where threads have no priority of their own)."""
    if not PER_THREAD:
        return 0
    return os.getpriority(os.PRIO_PROCESS, 0)


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value to ``nice`` (never lower it; a no-op off Linux)."""
    if not PER_THREAD or nice <= 0:
        return
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < nice:
            os.setpriority(os.PRIO_PROCESS, 0, min(nice, 19))
    except OSError:  # a sandbox that forbids it: run at normal priority rather than fail a write
        pass


class WriterLane:
    """One thread, at a lower CPU priority, that runs a server's writes one after another.

    One writer at a time is all the store takes anyway (its write lock), and queuing writes here rather
    than in the request threads keeps the server's thread pool free for searches.
    """

    def __init__(self, nice: int, name: str = "writer") -> None:
        self.nice = nice
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name,
                                        initializer=lower_thread_priority, initargs=(nice,))
        self._lock = threading.Lock()

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            return self._pool.submit(fn, *args, **kwargs)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` in the lane and wait for it without holding a thread of the caller's."""
        return await asyncio.wrap_future(self.submit(fn, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
