"""An update killed at any step (new version written, old one dropped, a file emptied, a file pruned), then
run again with ``veille ingest`` and ``veille ingest --prune``, ends exactly like a clean ingestion of the
new corpus: same documents and sources, no document without a source, vectors = passages, and answers
never cite a superseded version.

The real CLI runs in a subprocess; ``VEILLE_TEST_KILL_AT`` (ingestion/killpoints.py) makes it exit at
once (``os._exit(137)``, as ``kill -9``) at a named step."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import veille

from veille.config import Settings
from veille.store import Store

PORTS = ["Cherbourg", "Dieppe", "Fécamp", "Honfleur", "Caen-Ouistreham", "Granville", "Le Tréport", "Rouen",
         "Port-Jérôme"]


def _bulletin(i: int, containers: int) -> str:
    port = PORTS[i]
    return (f"Bulletin de veille portuaire numéro {i} : le port de {port}.\n\n"
            f"Au premier trimestre, le port de {port} a traité {containers} conteneurs, d'après la chambre de "
            f"commerce et d'industrie qui suit le trafic de chaque terminal normand.\n\n"
            f"Les acteurs de la logistique de {port} signalent des investissements dans les quais, les grues et "
            f"la desserte ferroviaire, avec un suivi trimestriel des délais d'escale et des emplois créés.\n")


def _write_v1(folder: Path) -> None:
    folder.mkdir(parents=True)
    for i in range(8):
        (folder / f"bulletin-{i:02d}.txt").write_text(_bulletin(i, 1000 + 100 * i), encoding="utf-8")


def _update_to_v2(folder: Path) -> None:
    """Every kind of change an update meets: new versions, a copy of another file, an emptied file,
    a deleted file, a new file."""
    for i in range(4):  # new versions: old documents must go
        (folder / f"bulletin-{i:02d}.txt").write_text(_bulletin(i, 5000 + 100 * i), encoding="utf-8")
    (folder / "bulletin-04.txt").write_text(_bulletin(5, 1500), encoding="utf-8")  # now the same text as 05
    (folder / "bulletin-06.txt").write_bytes(b"")  # unusable: its document must go
    (folder / "bulletin-07.txt").unlink()  # gone: --prune must drop it
    (folder / "bulletin-08.txt").write_text(_bulletin(8, 7800), encoding="utf-8")


def snapshot(home: Path) -> dict:
    store = Store(Settings(home=home))
    db = store.db
    try:
        chunks = {r[0] for r in db.execute("SELECT chunk_id FROM chunks")}
        return {
            "documents": {r[0]: r[1] for r in db.execute("SELECT doc_id, state FROM documents")},
            "sources": {r[0]: r[1] for r in db.execute("SELECT source, doc_id FROM sources")},
            "chunks": chunks,
            "fts": db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0],
            "vectors": set(store.collection.get(include=[])["ids"]),
            "orphans": {r[0] for r in db.execute(
                "SELECT doc_id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.doc_id=d.doc_id)")},
            "stray_chunks": {r[0] for r in db.execute(
                "SELECT chunk_id FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.doc_id=c.doc_id)")},
        }
    finally:
        db.close()
        store._local.conn = None


def assert_consistent(snap: dict) -> None:
    assert set(snap["documents"].values()) == {"done"}, snap["documents"]
    assert snap["orphans"] == set(), "documents sans source"
    assert snap["stray_chunks"] == set()
    assert snap["vectors"] == snap["chunks"] and snap["fts"] == len(snap["chunks"])


@pytest.fixture(scope="module")
def case(tmp_path_factory, models_dir):
    root = tmp_path_factory.mktemp("update")
    env = dict(os.environ, VEILLE_MODELS_PATH=str(models_dir), PYTHONUNBUFFERED="1",
               VEILLE_INGEST_BATCH_CHUNKS="1", VEILLE_CHUNK_TOKENS="30")  # one flush per document, 2-3 chunks each
    env.pop("VEILLE_CHROMA_URL", None)
    env.pop("VEILLE_TEST_KILL_AT", None)
    corpus = root / "bulletins"
    _write_v1(corpus)
    v1 = root / "v1"
    r = veille("ingest", "--json", str(corpus), env={**env, "VEILLE_HOME": str(v1)}, timeout=600)
    assert r.returncode == 0, r.stderr
    old_docs = set(snapshot(v1)["documents"])
    _update_to_v2(corpus)
    clean_home = root / "clean"
    r = veille("ingest", "--json", str(corpus), env={**env, "VEILLE_HOME": str(clean_home)}, timeout=600)
    assert r.returncode == 0, r.stderr
    clean = snapshot(clean_home)
    assert_consistent(clean)
    assert len(clean["documents"]) == 6 and len(clean["sources"]) == 7  # 04 and 05 share one document
    superseded = old_docs - set(clean["documents"])
    assert len(superseded) == 7  # 00-03 old versions, 04, 06 and 07
    return {"root": root, "corpus": corpus, "v1": v1, "clean": clean, "env": env, "superseded": superseded}


STAGES = [
    None,  # no kill: the update itself must end like a clean run
    "after_pending",  # new version's row written, no vectors yet
    "after_vectors",  # its vectors in Chroma, rows not committed
    "after_commit",  # new version committed, old version not yet dropped
    "after_vector_delete",  # old version's vectors deleted, its rows not yet
    "after_link",  # a file now holding another file's text re-pointed, its old document not dropped
    "after_unlink",  # an emptied file's source removed, its document not dropped
    "after_unlink:2",  # same, for the file --prune removes
]


@pytest.mark.parametrize("stage", STAGES, ids=[s or "sans-interruption" for s in STAGES])
def test_update_killed_at_each_step_then_rerun_equals_clean_run(case, stage, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(case["v1"], home)
    env = {**case["env"], "VEILLE_HOME": str(home)}
    corpus = str(case["corpus"])
    if stage:
        killed = veille("ingest", "--prune", "--json", corpus, env={**env, "VEILLE_TEST_KILL_AT": stage}, timeout=600)
        assert killed.returncode == 137, f"l'ingestion n'a pas atteint l'étape {stage} : {killed.stderr[-2000:]}"
        assert killed.stdout == ""  # killed before its summary
    rerun = veille("ingest", "--json", corpus, env=env, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    after_rerun = snapshot(home)
    assert_consistent(after_rerun)
    assert not set(after_rerun["documents"]) & (case["superseded"] - {_doc_of(case, "bulletin-07.txt")})

    pruned = veille("ingest", "--prune", "--json", corpus, env=env, timeout=600)
    assert pruned.returncode == 0, pruned.stderr
    final = snapshot(home)
    assert_consistent(final)
    clean = case["clean"]
    assert final["documents"] == clean["documents"]
    assert final["sources"] == clean["sources"]
    assert final["chunks"] == clean["chunks"] == final["vectors"]

    if stage in ASKED:
        # What a user sees: the superseded version is never cited.
        port, old_figure = ASKED[stage]
        answer = json.loads(veille("ask", "--json", f"Combien de conteneurs le port de {port} a-t-il traités "
                                   "au premier trimestre ?", env=env).stdout)
        assert {c["doc_id"] for c in answer["citations"]} <= set(clean["documents"])
        assert f"{old_figure} conteneurs" not in answer["answer"]


# The stages where the unfixed store kept a superseded version, and a question only that version answers.
ASKED = {"after_commit": ("Cherbourg", 1000), "after_link": ("Honfleur", 1400), "after_unlink": ("Le Tréport", 1600)}


def _doc_of(case, name: str) -> str:
    """The v1 document of a file (read from the v1 store)."""
    if "v1_sources" not in case:
        case["v1_sources"] = snapshot(case["v1"])["sources"]
    return case["v1_sources"][str(case["corpus"] / name)]
