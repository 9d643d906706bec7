"""The same ingestion and questions against a real ``chroma run`` server on loopback."""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import REPO, free_port, veille


@pytest.fixture
def chroma_server(tmp_path):
    exe = shutil.which("chroma") or str(Path(REPO / ".venv/bin/chroma"))
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "chroma-srv"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("le serveur Chroma n'a pas démarré")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_ingest_and_ask_through_chroma_server(chroma_server, env, tmp_path):
    env = dict(env, VEILLE_CHROMA_URL=chroma_server)
    first = veille("ingest", "--json", str(REPO / "corpus"), env=env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == 5
    again = veille("ingest", "--json", str(REPO / "corpus"), env=env)
    assert json.loads(again.stdout)["unchanged"] == 5
    status = json.loads(veille("status", "--json", env=env).stdout)
    assert status["store"] == chroma_server and status["vectors"] == status["chunks"] > 0
    answer = json.loads(veille("ask", "--json", "Quels sont les pôles de compétitivité normands ?", env=env).stdout)
    assert not answer["refused"] and "VALORIAL" in answer["answer"]
