"""Benchmark of the web interface: time to first token and to full answer (p50/p95) with 1 and with N
concurrent sessions, and the memory of the serving process.

    .venv/bin/python scripts/bench_ui.py [--sessions 20] [--questions 2] [--port 0]

It launches the real ``veille serve`` (a subprocess, over the store of $VEILLE_HOME), then drives it
through the Gradio API like browsers would (one gradio_client per session, streamed updates).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Quels sont les pôles de compétitivité normands ?",
    "Qui co-préside le comité stratégique d'intelligence économique territoriale ?",
    "Qu'est-ce que l'intelligence territoriale ?",
    "Quelles actions les Régions mènent-elles en intelligence économique ?",
    "Combien de personnes les actions de sensibilisation ont-elles touchées en 2019 ?",
    "Quel est le rôle de l'État dans le dispositif d'intelligence économique territoriale ?",
]
NO_FILTERS = ([], "", "", [], [], [])
console = Console()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of a process, in MB (Linux /proc)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":")
            values[key] = int(value.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def last_answer_text(output) -> str:
    history = output[0] if isinstance(output, (list, tuple)) else []
    if not history:
        return ""
    content = history[-1].get("content") if isinstance(history[-1], dict) else ""
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content or "")


def one_question(client, question: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    first = None
    job = client.submit(question, *NO_FILTERS, api_name="/chat")
    for update in job:
        text = last_answer_text(update)
        if first is None and text and "Recherche dans le corpus" not in text:
            first = time.perf_counter() - t0
    job.result()
    total = time.perf_counter() - t0
    return (first if first is not None else total), total


def run_sessions(url: str, sessions: int, per_session: int) -> tuple[list[float], list[float], float]:
    from gradio_client import Client

    ttft, full = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(sessions)

    def session(i: int) -> None:
        client = Client(url, verbose=False)
        barrier.wait()  # all sessions start asking together
        for k in range(per_session):
            first, total = one_question(client, QUESTIONS[(i + k) % len(QUESTIONS)])
            client.predict(api_name="/reset")
            with lock:
                ttft.append(first)
                full.append(total)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        list(pool.map(session, range(sessions)))
    return ttft, full, time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=2, help="questions par session en charge")
    parser.add_argument("--single", type=int, default=10, help="questions posées par la session seule")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    port = args.port or free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        t0 = time.perf_counter()
        for line in server.stdout:
            console.print(f"[dim]serveur : {line.rstrip()}[/]")
            if "Veille est prête" in line:
                break
        else:
            console.print("[red]Le serveur n'a pas démarré.[/]")
            return 1
        startup = time.perf_counter() - t0
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
        url = f"http://127.0.0.1:{port}"
        idle_rss, _ = rss_mb(server.pid)
        rows = []
        for sessions, per in ((1, args.single), (args.sessions, args.questions)):
            with console.status(f"{sessions} session(s) × {per} question(s)…"):
                ttft, full, wall = run_sessions(url, sessions, per)
            rows.append((sessions, len(full), ttft, full, wall))
        rss, peak = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    table = Table(title="Interface web, mode extractif (secondes)")
    for col in ("sessions", "questions", "1er texte p50", "1er texte p95", "réponse complète p50",
                "réponse complète p95", "débit (q/s)"):
        table.add_column(col, justify="right")
    for sessions, n, ttft, full, wall in rows:
        table.add_row(str(sessions), str(n), f"{pct(ttft, 50):.2f}", f"{pct(ttft, 95):.2f}", f"{pct(full, 50):.2f}",
                      f"{pct(full, 95):.2f}", f"{n / wall:.2f}")
    console.print(table)
    console.print(f"Démarrage (modèle préchauffé compris) : {startup:.1f} s · mémoire du serveur : "
                  f"{idle_rss:.0f} Mo au repos, {rss:.0f} Mo après la charge, pic {peak:.0f} Mo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
