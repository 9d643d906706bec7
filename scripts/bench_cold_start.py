"""Benchmark: `veille ask "…"` in a new process (cold start) on the demo corpus, and where its import time goes.

    .venv/bin/python scripts/bench_cold_start.py [--runs 3] [--compare REF] [--top 15] [--no-serve]
                                                 [--serve-ready N]

Prints a table of wall and CPU times (each run a fresh `python -m cli ask --json`, median of ``--runs``) for this
checkout answering in-process (``--local``) and through a `veille serve` started for the benchmark (its socket in
the home; the server's own CPU per question is shown beside the client's) and, with ``--compare REF``, for the
commit REF checked out in a temporary git worktree (same store; all runs alternated so that the machine's load
weighs on each alike); then the import-time profile of one run of each (`python -X importtime`): total import
time, the heavy libraries loaded, and the ``--top`` libraries by their own import time.
With ``--serve-ready N``, also how long `veille serve` takes to serve its page (this checkout and REF, N times each).
The demo corpus is ingested once into a temporary home first, and the server warmed up (neither timed).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
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
HEAVY = ("torch", "transformers", "sentence_transformers", "llama_index", "chromadb", "gradio", "sklearn", "scipy")
LOCAL, SERVED = "en processus (--local)", "par veille serve"


def environment(home: Path, models: Path, checkout: Path) -> dict:
    env = dict(os.environ, VEILLE_HOME=str(home), VEILLE_MODELS_PATH=str(models), PYTHONPATH=str(checkout))
    env.pop("VEILLE_CHROMA_URL", None)
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ask_once(checkout: Path, env: dict, importtime: bool = False, extra: tuple[str, ...] = (),
             server: subprocess.Popen | None = None) -> tuple[float, float, str, float]:
    """(wall seconds, CPU seconds, stderr, server CPU seconds) of one new process; CPU time is what a busy
    machine distorts least. The server's CPU counts too when it answered: its work is not free."""
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "cli", "ask", "--json", *extra,
               QUESTION]
    served = _process_cpu(server.pid) if server else 0.0
    cpu, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, env=env, cwd=checkout, capture_output=True, text=True, check=True)
    wall, used = time.perf_counter() - t0, _children_cpu() - cpu
    return wall, used, done.stderr, (_process_cpu(server.pid) - served) if server else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Ctrl-C, as a user stops `veille serve` (a clean stop, which removes its socket); killed after 60 s."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_server(env: dict) -> tuple[subprocess.Popen, float]:
    """`veille serve` on a free loopback port, returned (with its start-up seconds) once it says `veille ask`
    goes through it; the rest of its output is drained in a thread (a full pipe would block it)."""
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "passe par ce serveur" in line:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, time.perf_counter() - t0
    proc.wait()
    raise SystemExit("veille serve n'a pas démarré :\n" + "".join(seen))


def serve_ready(checkout: Path, env: dict) -> float:
    """Seconds from starting `veille serve` (``checkout``'s code, an empty home: nothing ingested) until its page
    answers HTTP 200: what a user waits for before the first question. Works for versions older than the socket."""
    import httpx

    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env, cwd=checkout,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"veille serve ({checkout}) s'est arrêté avant d'être prêt (code {proc.returncode})")
    finally:
        _stop(proc)


def print_serve_ready(variants: dict, work: Path, models: Path, runs: int) -> None:
    """`veille serve` ready times of each checkout measured (median of ``runs``, alternated)."""
    checkouts = {label: checkout for label, (checkout, extra, served) in variants.items() if not served}
    times: dict[str, list[float]] = {label: [] for label in checkouts}
    for run in range(runs):
        for number, (label, checkout) in enumerate(checkouts.items()):
            home = work / f"serve-{run}-{number}"
            times[label].append(serve_ready(checkout, environment(home, models, checkout)))
    table = Table(title=f"veille serve prêt (page servie, dossier de données vide, {runs} exécutions)")
    for col in ("version", "médiane (s)", "exécutions (s)"):
        table.add_column(col, justify="right")
    for label, values in times.items():
        table.add_row("cette version" if label == LOCAL else label, f"{statistics.median(values):.2f}",
                      " ".join(f"{v:.2f}" for v in values))
    console.print(table)


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
    parser.add_argument("--no-serve", action="store_true", help="ne pas mesurer la réponse par « veille serve »")
    parser.add_argument("--serve-ready", type=int, default=0, metavar="N",
                        help="mesurer aussi N fois le temps que met « veille serve » à servir sa page")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="veille-cold-"))
    models = REPO / ".veille" / "models"
    if not models.exists() and Path(os.environ.get("VEILLE_TEST_MODELS", "")).exists():
        models = Path(os.environ["VEILLE_TEST_MODELS"])
    home = work / "home"
    # label -> (checkout, extra arguments of `veille ask`, answered by the server)
    variants: dict[str, tuple[Path, tuple[str, ...], bool]] = {LOCAL: (REPO, ("--local",), False)}
    server = None
    try:
        subprocess.run([sys.executable, "-m", "cli", "ingest", str(REPO / "corpus")], check=True,
                       env=environment(home, models, REPO), cwd=REPO, capture_output=True)
        if args.compare:
            peer = work / "peer"
            subprocess.run(["git", "worktree", "add", "--detach", str(peer), args.compare], cwd=REPO, check=True,
                           capture_output=True)
            variants[args.compare] = (peer, (), False)  # an older `veille ask` knows no server: in-process
        if not args.no_serve:
            server, ready = start_server(environment(home, models, REPO))
            console.print(f"veille serve prêt en {ready:.1f} s (modèle préchauffé compris) ; "
                          f"il répond à « veille ask » par {home / 'ask.sock'}")
            variants[SERVED] = (REPO, (), True)
        times: dict[str, list[float]] = {label: [] for label in variants}
        cpu: dict[str, list[float]] = {label: [] for label in variants}
        server_cpu: dict[str, list[float]] = {label: [] for label in variants}
        for _ in range(args.runs):
            for label, (checkout, extra, served) in variants.items():
                wall, used, _, on_server = ask_once(checkout, environment(home, models, checkout), extra=extra,
                                                    server=server if served else None)
                times[label].append(wall)
                cpu[label].append(used)
                server_cpu[label].append(on_server)
        table = Table(title=f"veille ask à froid, corpus de démonstration ({args.runs} exécutions)")
        for col in ("version", "médiane (s)", "min (s)", "max (s)", "exécutions (s)", "temps CPU, médiane (s)",
                    "CPU du serveur, médiane (s)"):
            table.add_column(col, justify="right")
        for label, values in times.items():
            table.add_row(label, f"{statistics.median(values):.2f}", f"{min(values):.2f}", f"{max(values):.2f}",
                          " ".join(f"{v:.2f}" for v in values), f"{statistics.median(cpu[label]):.2f}",
                          f"{statistics.median(server_cpu[label]):.2f}" if variants[label][2] else "–")
        console.print(table)
        if args.serve_ready:
            print_serve_ready(variants, work, models, args.serve_ready)

        for label, (checkout, extra, served) in variants.items():
            *_, stderr, _ = ask_once(checkout, environment(home, models, checkout), importtime=True, extra=extra,
                                     server=server if served else None)
            total, ranked = profile(stderr, args.top)
            loaded = [name for name in HEAVY if re.search(rf"\|\s*{name}$", stderr, flags=re.M)]
            imports = Table(title=f"Imports de « veille ask » ({label}) : {total:.2f} s au total, "
                                  f"bibliothèques lourdes chargées : {', '.join(loaded) or 'aucune'} ; "
                                  f"les {args.top} bibliothèques les plus lentes (python -X importtime)")
            for col in ("bibliothèque", "temps propre (s)", "cumulé du premier import (s)"):
                imports.add_column(col, justify="right")
            for name, own, cumulative in ranked:
                imports.add_row(name, f"{own:.3f}", f"{cumulative:.3f}")
            console.print(imports)
    finally:
        if server is not None:
            _stop(server)
        if args.compare:
            subprocess.run(["git", "worktree", "remove", "--force", str(work / "peer")], cwd=REPO,
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
