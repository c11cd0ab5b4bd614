"""Worker processes (a fresh interpreter each) that end with the process that started them."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PARENT_CHECK_SECONDS = 1.0


def worker_pool() -> ProcessPoolExecutor:
    """One worker process, spawned: a fresh interpreter, never a fork of the caller's threads and
    database connections. It ends when this process does, even when this one is killed."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=exit_with_parent, initargs=(os.getpid(),))


def exit_with_parent(parent: int, every: float = PARENT_CHECK_SECONDS) -> None:
    """A pool worker's initializer: end this process once `parent` is gone. A killed parent would
    otherwise leave its worker waiting on the task queue for ever (the worker holds that pipe's
    write end too, so the read never ends)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
