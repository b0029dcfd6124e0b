"""Worker processes that prepare data (a task's feature extraction or synthesis): each a fresh interpreter
running a module (`python -m MODULE`), fed one payload on stdin, answering with bytes on stdout.

Fresh interpreters, never a fork or spawn of the caller: multiprocessing's spawn re-runs the caller's main
script in each child, so a script without an `if __name__ == "__main__"` guard would start the work again in
every worker; and a process per payload keeps no state from one payload to the next.

Faults: Ctrl-C reaches the whole process group, so a worker ignores SIGINT and the caller, which stops on it,
kills the running workers and starts no more (one line from the caller, no traceback from every worker); a
caller that dies without cleaning up (SIGKILL) takes its workers with it, as the kernel is asked to signal a
worker when its parent dies (Linux; elsewhere a worker checks its parent twice a second). The kernel's signal
follows the thread that started the worker, and each worker is started and waited for by one pool thread,
which lives until the pool is shut down."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

PARENT_ENV = "CNNBENCH_WORKER_PARENT"  # the caller's pid, given to each worker
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class WorkerPool:
    """Up to `workers` worker processes of `module` at a time, one per payload, results in payload order.
    Leaving the `with` block by an exception or an interrupt kills the running workers; `what` names them in
    errors, and a worker that runs longer than `timeout` seconds is killed and fails the map."""

    def __init__(self, module: str, workers: int, what: str, timeout: float | None = None) -> None:
        self.module, self.workers, self.what, self.timeout = module, workers, what, timeout
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._threads = ThreadPoolExecutor(workers)  # threads only wait on the worker processes

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._stopped = True
            for proc in self._running:
                proc.kill()
        self._threads.shutdown(wait=True, cancel_futures=True)

    def map(self, payloads: Iterable[bytes]) -> Iterator[bytes]:
        """Each payload's answer, in order, as the workers finish."""
        return self._threads.map(self._in_worker, payloads)

    def _in_worker(self, payload: bytes) -> bytes:
        with self._lock:
            if self._stopped:
                raise RuntimeError(f"{self.what} stopped")
            env = dict(os.environ, **{PARENT_ENV: str(os.getpid())})
            proc = subprocess.Popen([sys.executable, "-m", self.module], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env)  # fmt: skip
            self._running.add(proc)
        try:
            out, err = proc.communicate(payload, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise RuntimeError(f"{self.what} worker ran longer than {self.timeout:g} s and was stopped") from None
        finally:
            with self._lock:
                self._running.discard(proc)
        if proc.returncode != 0:
            tail = err.decode(errors="replace")[-500:]
            raise RuntimeError(f"{self.what} worker exited with code {proc.returncode}: {tail}")
        return out


def serve(handle: Callable[[bytes], bytes]) -> int:
    """A worker's main: die with the caller, ignore Ctrl-C (the caller stops the workers), answer stdin.
    In this order: a worker that ignores Ctrl-C is tied to its caller (the fault test relies on it)."""
    _exit_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout.buffer.write(handle(sys.stdin.buffer.read()))
    return 0


def _exit_with_parent() -> None:
    parent = int(os.environ.get(PARENT_ENV, "0") or 0)
    if parent <= 0:  # started by hand, not by a WorkerPool
        return
    watched = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            watched = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    if not watched:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the caller died before the request above took effect
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
