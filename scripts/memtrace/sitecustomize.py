"""Memory probe for the soak's server process (``scripts/bench_soak.py --memtrace``), never used by Veille itself.

Python imports ``sitecustomize`` at start-up from the first folder of ``sys.path`` that has one: the soak puts this
folder first on PYTHONPATH for the server only. With ``VEILLE_MEMTRACE_DIR`` set, a thread waits for the soak to
write ``memtrace.start`` there (once the load runs and the server is warm), then starts tracemalloc — so only
objects allocated from then on are traced, and what a snapshot holds is what has accumulated since — and every
``VEILLE_MEMTRACE_EVERY`` seconds appends one line of JSON to ``memtrace.jsonl``: RSS, the traced Python heap,
glibc's counters (bytes in use by malloc, free bytes kept in its arenas) and the 25 tracebacks holding the most
traced memory. Python heap flat + malloc in use growing = a native leak; in use flat + free growing = fragmentation.
"""
from __future__ import annotations

import ctypes
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def _malloc_counters() -> dict:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    mb = 1024 * 1024
    return {"malloc_in_use_mb": (info.uordblks + info.hblkhd) / mb, "malloc_free_mb": info.fordblks / mb,
            "arena_mb": info.arena / mb}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _probe(folder: Path, every: float) -> None:
    started = time.monotonic()
    while not (folder / "memtrace.start").exists():
        time.sleep(2)
    tracemalloc.start(int(os.environ.get("VEILLE_MEMTRACE_FRAMES", "12")))
    out = folder / "memtrace.jsonl"
    while True:
        time.sleep(every)
        snap = tracemalloc.take_snapshot()
        top = snap.statistics("traceback")[:25]
        current, _peak = tracemalloc.get_traced_memory()
        record = {"t": round(time.monotonic() - started, 1), "rss_mb": _rss_mb(), "traced_mb": current / 2 ** 20,
                  **_malloc_counters(), "threads": threading.active_count(),
                  "top": [{"size_kb": round(s.size / 1024, 1), "count": s.count,
                           "traceback": s.traceback.format(limit=12)} for s in top]}
        with out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        del snap, top


_folder = os.environ.get("VEILLE_MEMTRACE_DIR")
if _folder:
    threading.Thread(target=_probe, args=(Path(_folder), float(os.environ.get("VEILLE_MEMTRACE_EVERY", "60"))),
                     daemon=True, name="veille-memtrace").start()
