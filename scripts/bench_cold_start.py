"""Benchmark: `veille ask "…"` in a new process (cold start) on the demo corpus, and where its import time goes.

    .venv/bin/python scripts/bench_cold_start.py [--runs 3] [--compare REF] [--top 15]

Prints a table of wall and CPU times (each run a fresh `python -m cli ask --json`, median of ``--runs``) for this checkout
and, with ``--compare REF``, for the commit REF checked out in a temporary git worktree (same store, runs
alternated so that the machine's load weighs on both alike); then the import-time profile of one run
(`python -X importtime`): total import time and the ``--top`` libraries by their own import time.
The demo corpus is ingested once into a temporary home first (not timed).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console()
QUESTION = "Quels sont les pôles de compétitivité en Normandie ?"
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def environment(home: Path, models: Path, checkout: Path) -> dict:
    env = dict(os.environ, VEILLE_HOME=str(home), VEILLE_MODELS_PATH=str(models), PYTHONPATH=str(checkout))
    env.pop("VEILLE_CHROMA_URL", None)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ask_once(checkout: Path, env: dict, importtime: bool = False) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, stderr) of one new process; CPU time is what a busy machine distorts least."""
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "cli", "ask", "--json", QUESTION]
    cpu, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, cwd=checkout, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, _children_cpu() - cpu, done.stderr


def profile(stderr: str, top: int) -> tuple[float, list[tuple[str, float, float]]]:
    """(total import seconds, [(library, own seconds, cumulative seconds of its first top-level import)])."""
    own: dict[str, float] = defaultdict(float)
    cumulative: dict[str, float] = defaultdict(float)
    total = 0.0
    for match in _LINE.finditer(stderr):
        self_us, cum_us, indent, name = int(match[1]), int(match[2]), len(match[3]), match[4]
        root = name.split(".")[0]
        own[root] += self_us / 1e6
        if indent <= 1:  # imported by the program itself, not by another module's import
            total += cum_us / 1e6
        cumulative[root] = max(cumulative[root], cum_us / 1e6)
    ranked = sorted(own, key=own.get, reverse=True)[:top]
    return total, [(name, own[name], cumulative[name]) for name in ranked]


def main() -> int:
    parser = argparse.ArgumentParser(description="Démarrage à froid de « veille ask » et profil des imports.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", metavar="REF", help="commit à mesurer aussi (avant les changements)")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="veille-cold-"))
    models = REPO / ".veille" / "models"
    if not models.exists() and Path(os.environ.get("VEILLE_TEST_MODELS", "")).exists():
        models = Path(os.environ["VEILLE_TEST_MODELS"])
    home = work / "home"
    checkouts = {"cette version": REPO}
    try:
        subprocess.run([sys.executable, "-m", "cli", "ingest", str(REPO / "corpus")], check=True,
                       env=environment(home, models, REPO), cwd=REPO, capture_output=True)
        if args.compare:
            peer = work / "peer"
            subprocess.run(["git", "worktree", "add", "--detach", str(peer), args.compare], cwd=REPO, check=True,
                           capture_output=True)
            checkouts[args.compare] = peer
        times: dict[str, list[float]] = {label: [] for label in checkouts}
        cpu: dict[str, list[float]] = {label: [] for label in checkouts}
        for _ in range(args.runs):
            for label, checkout in checkouts.items():
                wall, used, _ = ask_once(checkout, environment(home, models, checkout))
                times[label].append(wall)
                cpu[label].append(used)
        table = Table(title=f"veille ask à froid, corpus de démonstration ({args.runs} exécutions)")
        for col in ("version", "médiane (s)", "min (s)", "max (s)", "exécutions (s)", "temps CPU, médiane (s)"):
            table.add_column(col, justify="right")
        for label, values in times.items():
            table.add_row(label, f"{statistics.median(values):.2f}", f"{min(values):.2f}", f"{max(values):.2f}",
                          " ".join(f"{v:.2f}" for v in values), f"{statistics.median(cpu[label]):.2f}")
        console.print(table)

        for label, checkout in checkouts.items():
            *_, stderr = ask_once(checkout, environment(home, models, checkout), importtime=True)
            total, ranked = profile(stderr, args.top)
            imports = Table(title=f"Imports de « veille ask » ({label}) : {total:.2f} s au total, "
                                  f"les {args.top} bibliothèques les plus lentes (python -X importtime)")
            for col in ("bibliothèque", "temps propre (s)", "cumulé du premier import (s)"):
                imports.add_column(col, justify="right")
            for name, own, cumulative in ranked:
                imports.add_row(name, f"{own:.3f}", f"{cumulative:.3f}")
            console.print(imports)
    finally:
        if args.compare:
            subprocess.run(["git", "worktree", "remove", "--force", str(work / "peer")], cwd=REPO,
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
