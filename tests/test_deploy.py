"""Server deployment on loopback: two `veille serve` processes share one `chroma run` server and one
SQLite registry/lexical index (WAL) on shared storage. One app ingests a document (its upload endpoint)
while the other keeps answering; afterwards both find the new document, with nothing rebuilt."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import httpx
import pytest
from conftest import REPO, free_port, veille
from test_chroma_server import chroma_server  # noqa: F401 - the real `chroma run` fixture

NEW_DOC = """# Plan régional hydrogène

La Région Normandie finance douze stations de recharge en hydrogène vert pour les poids lourds d'ici 2026.
Le plan régional hydrogène mobilise 150 millions d'euros avec les industriels de la vallée de la Seine.
"""
NEW_QUESTION = "Combien de stations de recharge en hydrogène la Région finance-t-elle ?"
OLD_QUESTION = "Quels sont les pôles de compétitivité normands ?"


def start_app(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_ready(proc: subprocess.Popen, url: str, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"le serveur s'est arrêté : {proc.stdout.read()[-2000:]}")
        try:
            if httpx.get(f"{url}/config", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail("le serveur Veille n'a pas démarré à temps")


def ask(url: str, question: str) -> str:
    """The chat endpoint over HTTP (server-sent events), as any client would call it."""
    with httpx.Client(base_url=url, timeout=180) as client:
        r = client.post("/gradio_api/call/chat", json={"data": [question, [], "", "", [], [], []]})
        r.raise_for_status()
        with client.stream("GET", f"/gradio_api/call/chat/{r.json()['event_id']}") as stream:
            return "".join(stream.iter_text())


def test_two_apps_one_chroma_server(chroma_server, env, tmp_path):  # noqa: F811
    env = dict(env, VEILLE_CHROMA_URL=chroma_server, VEILLE_THREADS="1")
    first = veille("ingest", "--json", str(REPO / "corpus"), env=env)
    assert first.returncode == 0, first.stderr
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    apps = [start_app(env, p) for p in ports]
    try:
        for proc, url in zip(apps, urls):
            wait_ready(proc, url)
        assert "VALORIAL" in ask(urls[1], OLD_QUESTION)
        assert "douze stations" not in ask(urls[1], NEW_QUESTION)

        # App A ingests an uploaded file while app B keeps answering.
        from gradio_client import Client, handle_file

        doc = tmp_path / "plan-hydrogene.md"
        doc.write_text(NEW_DOC, encoding="utf-8")
        answers: list[str] = []
        done = threading.Event()

        def keep_asking() -> None:
            while not done.is_set():
                answers.append(ask(urls[1], OLD_QUESTION))

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            result = Client(urls[0], verbose=False).predict([handle_file(str(doc))], api_name="/upload")
        finally:
            done.set()
            asker.join(timeout=300)
        assert "ajoutés : 1" in result[0], result[0]
        assert answers and all("VALORIAL" in a for a in answers), answers[-1][-500:]

        # Both apps see the new document at once: vectors from the shared Chroma server, passages and
        # lexical terms from the shared SQLite file; no restart, no rebuild.
        for url in urls:
            assert "douze stations" in ask(url, NEW_QUESTION), url
        status = json.loads(veille("status", "--json", env=env).stdout)
        assert status["vectors"] == status["chunks"]
    finally:
        for proc in apps:
            proc.terminate()
        for proc in apps:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
