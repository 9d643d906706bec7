"""Progress bars (rich) with rates, shared by ingestion, collection and evaluation."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from veille.config import get_settings

console = Console(stderr=True)


class RateColumn(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        # Average over the task's life: batched stages advance in bursts, so an instantaneous rate misleads. A
        # finished task keeps its rate (its clock would go on running while later stages work).
        elapsed = task.finished_time if task.finished else task.elapsed
        speed = task.completed / elapsed if elapsed else None
        unit = task.fields.get("unit", self.unit)
        return Text(f"{speed:,.1f} {unit}/s" if speed else f"– {unit}/s", style="progress.data.speed")


def make_progress(unit: str = "éléments", enabled: bool = True) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(unit),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                    disable=not enabled or not sys.stderr.isatty() and not _forced())


def _forced() -> bool:
    """Bars even outside a terminal (``VEILLE_PROGRESS=1``)."""
    return get_settings().progress == "1"


class _IngestBar:
    """Files read against the files found, and passages embedded; in a terminal as bars, elsewhere (a file, a
    pipe, a scheduler's log) as a line every ``LINE_EVERY`` seconds with the time left, so that a long run is
    never silent."""

    LINE_EVERY = 10.0

    def __init__(self, progress: Progress, total_files: int, lines: bool):
        self.progress = progress
        self.total = total_files
        self.files = progress.add_task("Fichiers lus", total=total_files, unit="fichiers")
        self.chunk_task = progress.add_task("Passages vectorisés", total=None, unit="passages")
        self.lines = lines
        self.started = self.last_line = time.monotonic()
        self.done = self.chunks_done = self.chunks_total = 0

    def file(self) -> None:
        self.done += 1
        self.progress.advance(self.files)
        self._line()

    def expect_chunks(self, n: int) -> None:
        """``n`` more passages to embed (a batch of documents read): « 16/23 » and the time left, not « 16/? »."""
        self.chunks_total += n
        self.progress.update(self.chunk_task, total=self.chunks_total)

    def chunks(self, n: int) -> None:
        self.chunks_done += n
        self.progress.advance(self.chunk_task, n)
        self._line()

    def stage(self, label: str, quiet: bool = False) -> None:
        """The stage under way (entities and near-duplicates between files): named, so that its time has a label."""
        self.progress.update(self.files, description=label)
        if self.lines and not quiet:
            print(f"{label}…", file=sys.stderr, flush=True)

    def _line(self) -> None:
        now = time.monotonic()
        if not self.lines or now - self.last_line < self.LINE_EVERY:
            return
        self.last_line = now
        elapsed = now - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else None
        if self.chunks_done and self.chunks_total > self.chunks_done:  # files read, passages still to embed
            left = max(left or 0.0, elapsed / self.chunks_done * (self.chunks_total - self.chunks_done))
        said = f" · reste environ {_duration(left)}" if left is not None else ""
        print(f"Fichiers lus {self.done}/{self.total} · passages vectorisés {self.chunks_done}/{self.chunks_total}"
              f" · écoulé {_duration(elapsed)}{said}", file=sys.stderr, flush=True)


def _duration(value: float) -> str:
    value = int(round(value))
    return f"{value // 60} min {value % 60:02d} s" if value >= 60 else f"{value} s"


@contextmanager
def ingest_progress(total_files: int, enabled: bool = True):
    progress = make_progress("fichiers", enabled)
    with progress:
        yield _IngestBar(progress, total_files, lines=enabled and progress.disable)
