"""`veille ask` answered by a running `veille serve` (its socket in the home), typed as a user types it: the same
answer as in-process, the same audience for an `--as` account, and the in-process path when the server is gone."""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

from conftest import REPO, free_port, veille

import accounts
from veille.config import Settings

PASSWORD = "motdepasse-solide"
DOCS = {
    "port": (["public"], [], "Le port de Cherbourg a accueilli 1,2 million de passagers transmanche en 2023. "
                             "La chambre de commerce prévoit d'agrandir le terminal ferroviaire pour le fret."),
    "confidentiel": (["partenaires"], [], "Bulletin confidentiel : la société Normacier envisage la fermeture de "
                                          "son site de Gravenchon. Trois cent dix emplois seraient concernés."),
}
QUESTION = "Normacier va-t-elle fermer son site de Gravenchon ?"
HEAVY = ("torch", "transformers", "sentence_transformers", "llama_index", "chromadb", "gradio")
LIGHT_PROBE = ("import sys\nfrom cli.main import main\nmain(['ask', '--json', *sys.argv[1:]])\n"
               f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)")


def _store(tmp_path, models_dir, embedder) -> Settings:
    from ingestion.pipeline import Ingestor

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, (audience, filieres, text) in DOCS.items():
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
        (corpus / f"{name}.txt.meta.json").write_text(json.dumps(
            {"title": name, "doc_type": "bulletin", "audience": audience, "filieres": filieres}), encoding="utf-8")
    settings = Settings(home=tmp_path / "home", models_path=models_dir)
    Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    accounts.add_user(settings, "ent-a", PASSWORD, "entreprise", ["Agroalimentaire"])
    accounts.add_user(settings, "lea", PASSWORD, "entreprise", ["Agroalimentaire"])
    return settings


def _same(a: str, b: str) -> bool:
    """Two `--json` outputs equal but for the timings (which differ from one run to the next)."""
    left, right = json.loads(a), json.loads(b)
    left.pop("timings_ms"), right.pop("timings_ms")
    return left == right


def _cited(output: str) -> set[str]:
    return {c["title"] for c in json.loads(output)["citations"]}


def _drop_requests(path) -> socket.socket:
    """A listener that reads each request and hangs up without answering: a server dying mid-request."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()

    def run():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.close()

    threading.Thread(target=run, daemon=True).start()
    return listener


def _stale_socket(path) -> None:
    """What a killed server leaves behind: the socket file, nobody listening."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))


def test_ask_through_a_running_serve_then_without_it(tmp_path, models_dir, embedder, env):
    settings = _store(tmp_path, models_dir, embedder)
    sock = settings.home / "ask.sock"
    _stale_socket(sock)  # a previous server was killed: this one replaces its file
    # Ctrl-C reaches the server as it would from a terminal: a child inherits an ignored SIGINT (something in
    # the test process may ignore it), and Python then installs no KeyboardInterrupt handler.
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(free_port())], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        lines, deadline = [], time.time() + 240
        for line in proc.stdout:
            lines.append(line.rstrip())
            if "« veille ask » passe par ce serveur" in line or time.time() > deadline:
                break
        assert any("passe par ce serveur" in line for line in lines), "\n".join(lines)
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600  # only this OS user may connect

        served = veille("ask", "--json", QUESTION, env=env)
        served_as = veille("ask", "--as", "ent-a", "--json", QUESTION, env=env)
        assert served.returncode == 0 and served_as.returncode == 0, served.stderr + served_as.stderr
        assert "confidentiel" in _cited(served.stdout)  # the operator sees everything
        # Answered by the server, the command never loaded the libraries that make a cold start slow.
        probe = subprocess.run([sys.executable, "-c", LIGHT_PROBE, QUESTION], env=env, cwd=REPO, text=True,
                               capture_output=True, timeout=120)
        assert probe.returncode == 0 and _same(probe.stdout, served.stdout), probe.stderr
        assert probe.stderr.strip() == "[]", probe.stderr
        assert "confidentiel" not in _cited(served_as.stdout) and "Gravenchon" not in json.loads(served_as.stdout)["answer"]
        assert veille("users", "disable", "lea", env=env).returncode == 0
        refused = veille("ask", "--as", "lea", "--json", QUESTION, env=env)
        assert refused.returncode == 2 and "désactivé" in refused.stderr and not refused.stdout

        local_as = veille("ask", "--local", "--as", "ent-a", "--json", QUESTION, env=env)
        assert local_as.returncode == 0, local_as.stderr
        assert _same(served_as.stdout, local_as.stdout)
        # Computed in the process, the answer needs the model and Chroma, but not llama-index (≈ 1 s of
        # imports: it is for writing and for the language model) nor the web front end.
        local = subprocess.run([sys.executable, "-c", LIGHT_PROBE, "--local", QUESTION], env=env, cwd=REPO,
                               text=True, capture_output=True, timeout=180)
        assert local.returncode == 0 and _same(local.stdout, served.stdout), local.stderr
        loaded = eval(local.stderr.strip().splitlines()[-1])
        assert "chromadb" in loaded and not {"llama_index", "gradio"} & set(loaded), local.stderr
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop removes the socket
        rest = proc.communicate(timeout=180)[0]
    assert not sock.exists() and "Traceback" not in rest

    _stale_socket(sock)
    stale = veille("ask", "--json", QUESTION, env=env)  # nobody listens: answered in-process, silently
    assert stale.returncode == 0 and stale.stderr == "", stale.stderr
    assert _same(served.stdout, stale.stdout)

    os.unlink(sock)
    listener = _drop_requests(sock)
    try:
        dropped = veille("ask", "--as", "ent-a", "--json", QUESTION, env=env)
    finally:
        listener.close()
    assert dropped.returncode == 0 and "Traceback" not in dropped.stderr
    assert "n'a pas répondu jusqu'au bout" in dropped.stderr and "traitée ici" in dropped.stderr
    assert _same(served_as.stdout, dropped.stdout)


def test_code_fingerprint_follows_the_code_not_the_rest(tmp_path):
    from assistant.ask_socket import code_fingerprint

    (tmp_path / "assistant" / "__pycache__").mkdir(parents=True)
    source = tmp_path / "assistant" / "compose.py"
    source.write_text("X = 1\n", encoding="utf-8")
    before = code_fingerprint.__wrapped__(tmp_path)
    (tmp_path / "assistant" / "__pycache__" / "compose.cpython-311.pyc").write_bytes(b"\0")  # not the code
    (tmp_path / "notes.py").write_text("", encoding="utf-8")  # outside Veille's packages
    assert code_fingerprint.__wrapped__(tmp_path) == before
    source.write_text("X = 2  # upgraded\n", encoding="utf-8")
    assert code_fingerprint.__wrapped__(tmp_path) != before


def test_a_server_running_older_code_is_not_asked(tmp_path, monkeypatch):
    """After an upgrade (or an edit) the running server still answers with the code it started with: the
    question is answered in-process, with one French line that says why."""
    from assistant import ask_socket
    from veille.filters import Filters

    settings = Settings(home=tmp_path / "home")
    server = ask_socket.serve_asks(None, settings, say=print)  # 409 comes before any question reaches the assistant
    assert server is not None
    try:
        monkeypatch.setattr(ask_socket, "code_fingerprint", lambda root=None: "code-after-upgrade")
        warnings: list[str] = []
        client = ask_socket.AskClient(settings, warn=warnings.append)
        assert client.available() and client.ask(QUESTION, Filters()) is None
        assert len(warnings) == 1 and "autre version" in warnings[0] and "traitée ici" in warnings[0]
    finally:
        server.close()
    assert not ask_socket.socket_path(settings).exists()
