"""Soak test: mixed load on loopback for a bounded time, then the store's integrity.

    .venv/bin/python scripts/bench_soak.py [--minutes 30] [--sessions 20] [--port 0] [--memtrace]

What runs at once against one store (a fresh $VEILLE_HOME under /tmp, vectors in a ``chroma run`` server on
127.0.0.1 — the deployment for several processes, see README « Déploiement serveur » —, the demo corpus
ingested first):
- the real ``veille serve`` with accounts (login required), and ``--sessions`` Gradio clients asking questions
  in a loop, each logged in as one of three company accounts;
- one ingestion process adding a new file every 20 s (``veille ingest``, a separate process on the same store);
- one collection from a local site (``veille collect`` of /work/shared/html_fr pages served on 127.0.0.1) every
  minute, when ../shared is present;
- half-way through, one of the accounts is disabled (``veille users disable``): its sessions must be refused
  from then on, and only they.

Every loop is bounded in time and count and stops by itself. Printed at the end: requests, errors by kind,
latency p50/p95 per phase, the server's memory over time (table; every sample in ``soak-memory.csv``; RSS start,
peak, end and its slope per question over the second half), and the store's integrity (documents, passages =
vectors, no orphan, nothing left pending). ``--memtrace`` adds a probe in the server (scripts/memtrace/
sitecustomize.py: tracemalloc's top allocations by traceback, glibc's bytes in use and free) to tell a Python-heap
growth from a native one or from fragmentation; run with ``MALLOC_ARENA_MAX=2`` to compare allocator settings.
Not a CI test: a benchmark command.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED_HTML = REPO.parent / "shared" / "html_fr" / "html"
QUESTIONS = ["Quels sont les pôles de compétitivité normands ?",
             "Qui co-préside le comité stratégique d'intelligence économique territoriale ?",
             "Qu'est-ce que l'intelligence territoriale ?",
             "Quelles actions les Régions mènent-elles en intelligence économique ?"]
PASSWORD = "soak-motdepasse"
ACCOUNTS = ["soak-a", "soak-b", "soak-c"]
DISABLED = "soak-c"
MAX_REQUESTS_PER_SESSION = 5000
console = Console(width=None if sys.stdout.isatty() else 140)  # a log file: lines not cut at 80


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def veille(*args: str, env: dict, input: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], env=env, cwd=REPO, input=input, text=True,
                          capture_output=True, timeout=timeout)


class Soak:
    def __init__(self, minutes: float, sessions: int, port: int, memtrace: bool = False):
        self.home = Path(tempfile.mkdtemp(prefix="veille-soak-"))
        self.env = dict(os.environ, VEILLE_HOME=str(self.home), PYTHONUNBUFFERED="1",
                        VEILLE_MODELS_PATH=str(REPO / ".veille" / "models"))
        self.seconds, self.sessions, self.port = minutes * 60, sessions, port or free_port()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = {"avant": [], "après": []}
        self.errors: Counter[str] = Counter()
        self.refused_after: Counter[str] = Counter()
        self.requests = 0
        self.retries = 0  # connections that needed another try (a loaded server)
        self.memory: list[tuple[float, float, int]] = []  # (seconds, server RSS in MB, questions answered so far)
        self.memtrace = memtrace
        self.disabled_at: float | None = None
        self.disabling = False  # set before `veille users disable` runs: the server may refuse before it returns
        self.ingested = self.collected = 0

    # --- set-up -----------------------------------------------------------------------------------
    def start_chroma(self) -> subprocess.Popen:
        import httpx

        port = free_port()
        exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        proc = subprocess.Popen([exe, "run", "--path", str(self.home / "chroma-srv"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        self.env["VEILLE_CHROMA_URL"] = url
        return proc

    def prepare(self) -> subprocess.Popen:
        console.print(f"Données : {self.home}")
        self.chroma = self.start_chroma()
        r = veille("ingest", str(REPO / "corpus"), env=self.env)
        assert r.returncode == 0, r.stderr
        for login in ACCOUNTS:
            r = veille("users", "add", login, "--role", "entreprise", "--password-stdin", env=self.env,
                       input=PASSWORD + "\n")
            assert r.returncode == 0, r.stderr
        server_env = dict(self.env)
        if self.memtrace:  # scripts/memtrace/sitecustomize.py, for the server process only
            server_env.update(VEILLE_MEMTRACE_DIR=str(self.home),
                              PYTHONPATH=os.pathsep.join([str(REPO / "scripts" / "memtrace"),
                                                          self.env.get("PYTHONPATH", str(REPO))]))
        server = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(self.port)], env=server_env,
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in server.stdout:
            if "Veille est prête" in line:
                break
        log = (self.home / "serve.log").open("w", encoding="utf-8")
        # The server's output keeps flowing to a file: an undrained pipe would block its logging.
        threading.Thread(target=lambda: [log.write(line) or log.flush() for line in server.stdout],
                         daemon=True).start()
        return server

    # --- the load ----------------------------------------------------------------------------------
    def session(self, index: int, url: str) -> None:
        from gradio_client import Client

        login = ACCOUNTS[index % len(ACCOUNTS)]
        client = None
        for attempt in range(5):  # a loaded server may be slow to serve its configuration: a few tries
            try:
                client = Client(url, auth=(login, PASSWORD), verbose=False)
                break
            except Exception as exc:  # noqa: BLE001 - retried, and counted if every try fails
                failure = f"connexion {type(exc).__name__}"
                with self.lock:
                    self.retries += 1
                if self.stop.wait(5 * (attempt + 1)):
                    return
        if client is None:
            self.count_error(failure)
            return
        for n in range(MAX_REQUESTS_PER_SESSION):
            if self.stop.is_set():
                return
            phase = "avant" if self.disabled_at is None else "après"
            t0 = time.perf_counter()
            try:
                client.predict(QUESTIONS[(index + n) % len(QUESTIONS)], [], "", "", [], [], [],
                               api_name="/chat")
                elapsed = time.perf_counter() - t0
                with self.lock:
                    self.requests += 1
                    self.latencies[phase].append(elapsed)
                if phase == "après" and login == DISABLED:
                    self.count_error("compte désactivé servi")
            except Exception as exc:  # noqa: BLE001
                with self.lock:
                    self.requests += 1
                if login == DISABLED and (phase == "après" or self.disabling):
                    self.refused_after[login] += 1
                    time.sleep(1)
                else:
                    self.count_error(type(exc).__name__)

    def count_error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1

    def ingest_loop(self) -> None:
        folder = self.home / "arrivees"
        folder.mkdir()
        for i in range(10_000):
            if self.stop.wait(20):
                return
            (folder / f"note-{i:04d}.txt").write_text(
                f"Note de veille {i} : la filière numérique normande compte {100 + i} entreprises "
                f"et prépare un salon régional de la cybersécurité en {2020 + i % 6}.", encoding="utf-8")
            r = veille("ingest", str(folder), env=self.env)
            if r.returncode == 0:
                self.ingested += 1
            else:
                self.count_error("ingestion en échec")

    def collect_loop(self) -> None:
        if not SHARED_HTML.is_dir():
            return
        from bench.site import Site

        with Site.from_folder(SHARED_HTML) as site:
            host = site.base.split("//", 1)[1]
            env = dict(self.env, VEILLE_COLLECT_ALLOW_HOSTS=host, VEILLE_COLLECT_DELAY="0")
            urls = sorted(site.page_urls())[:5]
            for _ in range(1000):
                r = veille("collect", *urls, env=env)
                if r.returncode in (0, 1):
                    self.collected += 1
                else:
                    self.count_error("collecte en échec")
                if self.stop.wait(60):
                    return

    def run(self) -> None:
        server = self.prepare()
        url = f"http://127.0.0.1:{self.port}/"
        started = time.monotonic()
        threads = [threading.Thread(target=self.session, args=(i, url), daemon=True) for i in range(self.sessions)]
        threads += [threading.Thread(target=self.ingest_loop, daemon=True),
                    threading.Thread(target=self.collect_loop, daemon=True)]
        for t in threads:
            t.start()
        last_line = 0.0
        try:
            while (elapsed := time.monotonic() - started) < self.seconds:
                self.memory.append((elapsed, rss_mb(server.pid), self.requests))
                if self.memtrace and elapsed >= 60:  # warm by now: the probe starts tracing (scripts/memtrace)
                    (self.home / "memtrace.start").touch()
                if elapsed - last_line >= 30:
                    last_line = elapsed
                    console.print(f"{elapsed / 60:4.1f} min · {self.requests} questions · "
                                  f"{sum(self.errors.values())} erreurs · {self.ingested} ingestions · "
                                  f"{self.collected} collectes · serveur {self.memory[-1][1]:.0f} Mo"
                                  + (f" · {dict(self.errors)}" if self.errors else ""), highlight=False)
                if self.disabled_at is None and elapsed >= self.seconds / 2:
                    self.disabling = True
                    r = veille("users", "disable", DISABLED, env=self.env)
                    self.disabled_at = elapsed
                    if r.returncode != 0:
                        self.count_error("désactivation en échec")
                time.sleep(min(10.0, self.seconds - elapsed))
        finally:
            self.stop.set()
            deadline = time.monotonic() + 90  # a question in flight finishes; the threads are daemons anyway
            for t in threads:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
            server.terminate()
            server.wait(timeout=60)
        try:
            self.report(self.integrity())
        finally:
            self.chroma.terminate()
            self.chroma.wait(timeout=60)

    # --- results -----------------------------------------------------------------------------------
    def integrity(self) -> dict:
        from veille.config import Settings
        from veille.store import get_store

        store = get_store(Settings(home=self.home, chroma_url=self.env["VEILLE_CHROMA_URL"]))
        chunk_docs = store.chunk_documents()
        documents = store.count_documents()
        return {"documents": documents, "passages": store.count_chunks(), "vecteurs": store.collection.count(),
                "inachevés (pending/deleting/sans source)": len(store.unfinished_documents()),
                "passages sans document": len(set(chunk_docs.values()) - {d["doc_id"] for d in
                                                                         store.documents(limit=10 ** 6)})}

    def report(self, integrity: dict) -> None:
        table = Table(title=f"Charge mixte pendant {self.seconds / 60:.1f} min ({self.sessions} sessions)")
        for col in ("mesure", "valeur"):
            table.add_column(col)
        table.add_row("questions envoyées", str(self.requests))
        for phase, values in self.latencies.items():
            if values:
                p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
                table.add_row(f"latence {phase} désactivation (p50 / p95)",
                              f"{statistics.median(values):.2f} s / {p95:.2f} s ({len(values)} réponses)")
        table.add_row("erreurs", ", ".join(f"{k} : {v}" for k, v in self.errors.items()) or "aucune")
        table.add_row("refus du compte désactivé (attendus)", str(sum(self.refused_after.values())))
        table.add_row("connexions réessayées", str(self.retries))
        table.add_row("ingestions / collectes réussies", f"{self.ingested} / {self.collected}")
        for key, value in integrity.items():
            table.add_row(key, str(value))
        console.print(table)
        self.report_memory()
        ok = (not self.errors and integrity["passages"] == integrity["vecteurs"]
              and not integrity["inachevés (pending/deleting/sans source)"] and not integrity["passages sans document"])
        console.print("[bold green]Intégrité et service : OK[/]" if ok else "[bold red]Problèmes relevés ci-dessus[/]")
        console.print(f"Journal du serveur : {self.home / 'serve.log'}")
        if self.memtrace:
            console.print(f"Sonde mémoire (tracemalloc, malloc) : {self.home / 'memtrace.jsonl'}")

    def report_memory(self) -> None:
        """RSS over time (table, and every sample in a CSV file), and its slope per question fitted over the second
        half of the run: the first half includes warm-up (caches, lazily loaded parts), which is not a leak."""
        if not self.memory:
            return
        memory = Table(title="Mémoire du serveur (RSS)" + (f", MALLOC_ARENA_MAX={os.environ['MALLOC_ARENA_MAX']}"
                                                           if os.environ.get("MALLOC_ARENA_MAX") else ""))
        for col in ("instant", "questions", "Mo"):
            memory.add_column(col, justify="right")
        step = max(1, len(self.memory) // 12)
        rows = self.memory[::step]
        if rows[-1] is not self.memory[-1]:
            rows.append(self.memory[-1])
        for elapsed, mb, asked in rows:
            memory.add_row(f"{elapsed / 60:.1f} min", str(asked), f"{mb:.0f}")
        console.print(memory)
        csv = self.home / "soak-memory.csv"
        csv.write_text("secondes,questions,rss_mo\n" + "".join(f"{e:.0f},{q},{mb:.1f}\n" for e, mb, q in self.memory),
                       encoding="utf-8")
        half = [m for m in self.memory if m[0] >= self.memory[-1][0] / 2]
        start, end = self.memory[0][1], self.memory[-1][1]
        line = f"RSS : {start:.0f} Mo au départ, {max(m[1] for m in self.memory):.0f} Mo au plus, {end:.0f} Mo à la fin"
        if len(half) >= 3 and half[-1][2] > half[0][2]:
            per_question = statistics.linear_regression([m[2] for m in half], [m[1] for m in half]).slope
            per_minute = statistics.linear_regression([m[0] / 60 for m in half], [m[1] for m in half]).slope
            line += (f" ; pente sur la seconde moitié : {per_question * 1024:+.0f} Ko par question, "
                     f"{per_minute:+.1f} Mo par minute")
        console.print(line + f" (chaque relevé : {csv})", highlight=False)


def main() -> int:
    parser = argparse.ArgumentParser(description="Charge mixte bornée dans le temps sur 127.0.0.1.")
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--memtrace", action="store_true",
                        help="sonde tracemalloc et malloc dans le serveur (scripts/memtrace), plus lent")
    args = parser.parse_args()
    Soak(args.minutes, args.sessions, args.port, memtrace=args.memtrace).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
