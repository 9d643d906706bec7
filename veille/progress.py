"""Progress bars (rich) with rates, shared by ingestion, collection and evaluation."""
from __future__ import annotations

import os
import sys
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

console = Console(stderr=True)


class RateColumn(ProgressColumn):
    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        # Average over the task's life: batched stages advance in bursts, so an instantaneous rate misleads.
        speed = task.completed / task.elapsed if task.elapsed else None
        unit = task.fields.get("unit", self.unit)
        return Text(f"{speed:,.1f} {unit}/s" if speed else f"– {unit}/s", style="progress.data.speed")


def make_progress(unit: str = "éléments", enabled: bool = True) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(unit),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                    disable=not enabled or not sys.stderr.isatty() and not _forced())


def _forced() -> bool:
    return os.environ.get("VEILLE_PROGRESS") == "1"


class _IngestBar:
    def __init__(self, progress: Progress, total_docs: int):
        self.progress = progress
        self.docs = progress.add_task("Documents", total=total_docs, unit="doc")
        self.chunk_task = progress.add_task("Passages vectorisés", total=None, unit="passages")

    def document(self) -> None:
        self.progress.advance(self.docs)

    def chunks(self, n: int) -> None:
        self.progress.advance(self.chunk_task, n)


@contextmanager
def ingest_progress(total_docs: int, enabled: bool = True):
    progress = make_progress("doc", enabled)
    with progress:
        yield _IngestBar(progress, total_docs)
