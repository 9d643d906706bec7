"""An ingestion killed with SIGKILL midway, then run again, ends exactly like an uninterrupted run."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO

TOPICS = ["la logistique portuaire", "la cybersécurité des PME", "l'éolien en mer", "l'agroalimentaire",
          "la filière équine", "l'aéronautique", "la santé numérique", "le tourisme de mémoire"]


def _write_corpus(folder: Path, n: int = 48) -> None:
    folder.mkdir()
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        paragraphs = [f"Bulletin de veille numéro {i} consacré à {topic} en Normandie."]
        for j in range(6):
            paragraphs.append(f"Point {j} du bulletin {i} : les acteurs de {topic} signalent l'évolution {i * 7 + j} "
                              f"des marchés, des concurrents et des risques, avec {j + i} initiatives recensées "
                              f"dans le territoire et un suivi trimestriel par la chambre de commerce.")
        (folder / f"bulletin-{i:03d}.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")


def _snapshot(home: Path) -> tuple[set, set, int]:
    code = ("import json,sys;from veille.config import load_settings;from veille.store import get_store;"
            "s=get_store(load_settings());"
            "print(json.dumps([sorted(r[0] for r in s.db.execute('select chunk_id from chunks')),"
            "sorted(s.collection.get(include=[])['ids']),"
            "s.db.execute(\"select count(*) from documents where state!='done'\").fetchone()[0]]))")
    env = dict(os.environ, VEILLE_HOME=str(home))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO, check=True)
    import json

    sql, vec, pending = json.loads(out.stdout)
    return set(sql), set(vec), pending


def test_kill_9_midway_then_rerun_equals_clean_run(tmp_path, env):
    corpus = tmp_path / "bulletins"
    _write_corpus(corpus)
    env = dict(env, VEILLE_INGEST_BATCH_CHUNKS="6")
    home = Path(env["VEILLE_HOME"])
    proc = subprocess.Popen([sys.executable, "-m", "cli", "ingest", str(corpus)], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    done = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(home / "veille.db", timeout=1) as db:
                done = db.execute("SELECT count(*) FROM documents WHERE state='done'").fetchone()[0]
        except sqlite3.Error:
            continue
        if done >= 3:
            break
    assert proc.poll() is None, "l'ingestion s'est terminée avant d'avoir pu être interrompue"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 3 <= done < 48

    rerun = subprocess.run([sys.executable, "-m", "cli", "ingest", "--json", str(corpus)], env=env,
                           cwd=REPO, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr

    clean_home = tmp_path / "clean"
    clean = subprocess.run([sys.executable, "-m", "cli", "ingest", "--json", str(corpus)],
                           env=dict(env, VEILLE_HOME=str(clean_home)), cwd=REPO, capture_output=True, text=True,
                           timeout=600)
    assert clean.returncode == 0, clean.stderr

    sql, vec, pending = _snapshot(home)
    clean_sql, clean_vec, _ = _snapshot(clean_home)
    assert pending == 0
    assert sql == vec == clean_sql == clean_vec
    assert len(sql) == len(set(sql)) and len(sql) >= 48
