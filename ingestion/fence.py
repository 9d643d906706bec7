"""The fence around extraction: each file is read in a long-lived worker process (``ingestion/fence_worker.py``)
whose address space is capped (``RLIMIT_AS``, inherited by Tesseract) and whose every file has a wall-clock
limit. Whatever a library does inside (lxml, python-docx, openpyxl, pypdfium2, Tesseract), one file then costs at
most that memory and that time: past them the worker is killed, the file is refused with a French reason, and a
fresh worker reads the next. The budgets of ``ingestion/limits.py`` refuse most hostile files before this; the
fence is for what escapes them.

Written by hand, over a pipe to ``python -m``, rather than with multiprocessing (or pebble, which builds on
it): a spawned multiprocessing worker re-imports the parent's main script (``veille``, a user's script), and a
forked one would carry the embedding model of ``veille serve`` into a process capped at 2 Go."""
from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable

from ingestion.fence_worker import receive, send
from ingestion.formats.base import Extracted
from ingestion.limits import ReadLimits
from ingestion.read import RawFile, SkipFile
from veille.config import REPO_ROOT, Settings
from veille.numbers import decimal, file_size

# A file still being read after this long lets the documents finished before it be written meanwhile.
FLUSH_AFTER_SECONDS = 2.0
START_SECONDS = 60.0  # a worker that does not say it is ready within this is broken
MAX_REPLY_BYTES = 1 << 30  # a reply announcing more is not one (the text of a document is capped far below)


class StoppedByFence(SkipFile):
    """A file whose reading was stopped for time or memory: costly to try, so remembered until it changes."""


class FenceUnavailable(RuntimeError):
    """The worker could not be started: the machine's fault, not the file's (its documents are kept)."""


class _Worker:
    """One worker process, started at the first file, kept between files, killed and forgotten when a file
    passes its limits (the next file starts a fresh one). Its own session: Ctrl-C in a terminal is the
    caller's to handle, and a kill takes Tesseract with it."""

    def __init__(self, memory: int):
        self.memory = memory
        # The checkout on the worker's path: the package need not be installed, nor the caller's cwd be the repo.
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH"))
                                                          if p))
        self.process = subprocess.Popen([sys.executable, "-m", "ingestion.fence_worker", str(memory)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                        start_new_session=True)
        if not self._wait(time.monotonic() + START_SECONDS) or self._receive() != ("ready", ""):
            self.kill()
            raise FenceUnavailable("le processus de lecture des fichiers n'a pas démarré")

    def _wait(self, deadline: float) -> bool:
        """True once the worker has something to say (or has died), False at the deadline."""
        return bool(select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))[0])

    def _receive(self):
        """The next reply, or None when the stream is not a well-formed reply (the worker died mid-way)."""
        try:
            return receive(self.process.stdout, MAX_REPLY_BYTES)
        except (EOFError, OSError, ValueError, MemoryError, pickle.UnpicklingError):
            return None

    def read(self, request: tuple, seconds: float, hook: Callable[[], None] | None):
        """The worker's reply (status, value), or None if it died; TimeoutError past ``seconds`` of reading, as
        the worker measures them (a reply that waited while the hook ran is judged by the file's own time)."""
        deadline = time.monotonic() + seconds
        send(self.process.stdin, request)
        if hook is not None and not self._wait(min(deadline, time.monotonic() + FLUSH_AFTER_SECONDS)):
            hook()
        if not self._wait(deadline):
            raise TimeoutError
        reply = self._receive()
        if reply is None:
            return None
        status, value, took = reply
        if took > seconds:
            raise TimeoutError
        return status, value

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # Tesseract, started by the worker, goes too
        except (ProcessLookupError, PermissionError):
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()


class _Fence:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # one file at a time through the worker
        self._worker: _Worker | None = None

    def extract(self, raw: RawFile, settings: Settings, url: str | None, hook: Callable[[], None] | None
                ) -> Extracted:
        with self._lock:
            if self._worker is None or self._worker.memory != settings.extract_max_memory \
                    or self._worker.process.poll() is not None:
                self._close()
                self._worker = _Worker(settings.extract_max_memory)
            request = (raw, ReadLimits.from_settings(settings), url, settings.extract_max_seconds)
            try:
                reply = self._worker.read(request, settings.extract_max_seconds, hook)
            except TimeoutError:
                self._close()
                raise StoppedByFence(f"lecture arrêtée après {decimal(settings.extract_max_seconds, 0)} s "
                                     f"(limite VEILLE_EXTRACT_MAX_SECONDS) : fichier refusé") from None
            except (BrokenPipeError, ConnectionError):
                reply = None
            except BaseException:  # the hook failed, Ctrl-C …: a reply may be pending; never read it for another
                self._close()
                raise
            if reply is None:
                code = self._worker.process.poll()
                self._close()
                raise StoppedByFence(f"le processus de lecture s'est arrêté sur ce fichier (code {code} : mémoire "
                                     f"épuisée au-delà de {file_size(settings.extract_max_memory)} ou lecteur en "
                                     f"échec) : fichier refusé")
            if reply[0] == "memory":
                self._close()
                raise StoppedByFence(f"sa lecture demandait plus de {file_size(settings.extract_max_memory)} de "
                                     f"mémoire (limite VEILLE_EXTRACT_MAX_MEMORY) : fichier refusé")
            status, value = reply
            if status == "skip":
                raise SkipFile(value)
            return value

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None


_FENCE = _Fence()
atexit.register(_FENCE.close)

_while_waiting: ContextVar[Callable[[], None] | None] = ContextVar("while_waiting", default=None)


@contextmanager
def while_waiting(hook: Callable[[], None]):
    """Inside this block, a file still being read after ``FLUSH_AFTER_SECONDS`` calls ``hook`` once (the
    ingestion writes the documents it has finished: a slow or hostile file never holds them)."""
    token = _while_waiting.set(hook)
    try:
        yield
    finally:
        _while_waiting.reset(token)


def extract_fenced(raw: RawFile, settings: Settings, url: str | None = None) -> Extracted:
    """``ingestion.extract.extract(raw)`` (``extract_html(raw.data, url)`` when a URL is given) in the worker,
    within ``settings.extract_max_seconds`` and ``settings.extract_max_memory``."""
    return _FENCE.extract(raw, settings, url, _while_waiting.get())
