"""Shared fixtures: the real embedding model (built once per machine, cached under .veille/models),
a fresh data directory per test, and the demo corpus."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
MODELS = Path(os.environ.get("VEILLE_TEST_MODELS", REPO / ".veille" / "models"))


def needs_shared(sub: str = "") -> Path:
    path = SHARED / sub
    if not path.exists():
        pytest.skip(f"../shared/{sub} absent : ce test a besoin des données partagées")
    return path


@pytest.fixture(scope="session")
def models_dir() -> Path:
    from veille.config import Settings
    from veille.embeddings import resolve_model_path

    MODELS.mkdir(parents=True, exist_ok=True)
    resolve_model_path("e5-small", Settings(models_path=MODELS))
    return MODELS


@pytest.fixture
def settings(tmp_path, models_dir):
    from veille.config import Settings

    return Settings(home=tmp_path / "home", models_path=models_dir)


@pytest.fixture
def env(tmp_path, models_dir):
    """Environment for running the real ``veille`` command in a subprocess."""
    e = dict(os.environ)
    e.update(VEILLE_HOME=str(tmp_path / "home"), VEILLE_MODELS_PATH=str(models_dir), PYTHONUNBUFFERED="1")
    e.pop("VEILLE_CHROMA_URL", None)
    return e


@pytest.fixture(scope="session")
def embedder(models_dir):
    from veille.config import Settings
    from veille.embeddings import get_embedder

    return get_embedder(Settings(models_path=models_dir))


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    dest = tmp_path / "corpus"
    shutil.copytree(REPO / "corpus", dest)
    return dest


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory, models_dir):
    """One ingested demo corpus shared by read-only tests."""
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    settings = Settings(home=tmp_path_factory.mktemp("demo") / "home", models_path=models_dir)
    Ingestor(settings, progress=False).ingest_paths([REPO / "corpus"])
    return settings


def veille(*args, env, input: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], env=env, input=input, text=True,
                          capture_output=True, timeout=timeout, cwd=REPO)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PAGE = b"<html><body><p>Page de test de la collecte.</p></body></html>"


class LoopbackSite:
    """A real web site on 127.0.0.1 (a free port, in a thread): every path asked is in ``log``; a path of
    ``redirects`` answers 302 to its target, any other the small page ``PAGE``."""

    def __init__(self):
        self.log: list[str] = []
        self.redirects: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                server.log.append(self.path)
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
