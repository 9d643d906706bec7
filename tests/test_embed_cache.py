"""The chunk-level embedding cache: an edited document re-embeds only its changed passages, a near-identical copy
reuses its original's vectors, and the store ends exactly as a fresh ingestion of the same files would. The real
e5 model embeds; a thin wrapper only counts the texts it is given."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ingestion.pipeline import Ingestor
from veille.config import Settings
from veille.store import Store

TOPICS = ["l'hydrogène vert au Havre", "la filière bois de l'Orne", "les chantiers navals de Cherbourg",
          "le lin textile du pays de Caux", "la logistique portuaire de Rouen", "les semi-conducteurs de Caen",
          "l'éolien en mer de Fécamp", "le tourisme de mémoire en Normandie", "la pêche à Port-en-Bessin",
          "l'agroalimentaire de la Manche", "la chimie de Port-Jérôme", "le numérique à Évreux"]


def _paragraph(i: int, topic: str, figure: int) -> str:
    return (f"Section {i} : {topic}. Les entreprises de ce secteur déclarent {figure} emplois directs cette année, "
            f"selon l'observatoire régional qui interroge chaque trimestre les dirigeants et les chambres "
            f"consulaires. Les investissements annoncés portent sur les équipements, la formation des salariés et "
            f"la recherche appliquée menée avec les laboratoires universitaires de la région. Les élus suivent le "
            f"dossier {topic} de près, car il conditionne l'attractivité du territoire et l'emploi des jeunes "
            f"diplômés qui quittent aujourd'hui la Normandie pour Paris.")


def report_text(changed: int | None = None) -> str:
    paragraphs = [_paragraph(i, t, 1200 + 37 * i) for i, t in enumerate(TOPICS)]
    if changed is not None:
        paragraphs[changed] = _paragraph(changed, TOPICS[changed], 9999).replace("annoncés", "reportés à 2027")
    return "# Rapport annuel de l'observatoire économique normand\n\n" + "\n\n".join(paragraphs) + "\n"


class CountingEmbedder:
    """The real embedder, recording every passage text it is asked to embed."""

    def __init__(self, real):
        self.real, self.name, self.dim = real, real.name, real.dim
        self.passages: list[str] = []

    def embed_queries(self, texts):
        return self.real.embed_queries(texts)

    def embed_passages(self, texts, batch_size=None, progress=None):
        self.passages.extend(texts)
        return self.real.embed_passages(texts, batch_size=batch_size, progress=progress)


def _settings(home: Path, models_dir: Path, **kw) -> Settings:
    return Settings(home=home, models_path=models_dir, chunk_tokens=60, entities="none", **kw)


def _ingest(settings: Settings, folder: Path, embedder, prune: bool = False):
    return Ingestor(settings, embedder=embedder, progress=False).ingest_paths([folder], prune=prune)


def _chunks(settings: Settings) -> dict[str, str]:
    return {r["chunk_id"]: r["text"] for r in Store(settings).db.execute("SELECT chunk_id, text FROM chunks")}


def _vectors(settings: Settings) -> dict[str, np.ndarray]:
    got = Store(settings).collection.get(include=["embeddings"])
    return dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))


def test_edited_report_embeds_only_changed_passages_and_equals_fresh_ingestion(tmp_path, models_dir, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    report = folder / "rapport.md"
    report.write_text(report_text(), encoding="utf-8")
    settings = _settings(tmp_path / "home", models_dir)
    first = CountingEmbedder(embedder)
    r1 = _ingest(settings, folder, first)
    old_texts = set(_chunks(settings).values())
    assert r1.embedded == len(first.passages) == r1.chunks_written >= 8 and r1.reused == 0

    report.write_text(report_text(changed=6), encoding="utf-8")
    second = CountingEmbedder(embedder)
    r2 = _ingest(settings, folder, second)
    assert r2.count("updated") == 1
    new_chunks = _chunks(settings)
    changed = [t for t in new_chunks.values() if t not in old_texts]
    assert changed and len(changed) <= 2 < len(new_chunks)  # one paragraph: one passage, two if it straddles
    assert len(second.passages) == len(changed) == r2.embedded
    assert all(any(p.endswith(t) for t in changed) for p in second.passages)
    assert r2.reused == len(new_chunks) - len(changed)

    fresh = _settings(tmp_path / "fresh", models_dir)
    _ingest(fresh, folder, embedder)
    assert _chunks(fresh) == new_chunks  # same ids (document hash + position), same texts
    cached, clean = _vectors(settings), _vectors(fresh)
    assert cached.keys() == clean.keys() == new_chunks.keys()  # the superseded version's vectors are gone
    for chunk_id, vector in clean.items():
        assert float(vector @ cached[chunk_id]) > 0.99999, chunk_id
    query = embedder.embed_queries(["Combien d'emplois dans les chantiers navals de Cherbourg ?"])[0].tolist()
    ranked = [Store(s).collection.query(query_embeddings=[query], n_results=5)["ids"][0] for s in (settings, fresh)]
    assert ranked[0] == ranked[1]


def test_near_identical_copy_reuses_vectors_and_deleting_one_keeps_the_other(tmp_path, models_dir, embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "rapport.md").write_text(report_text(), encoding="utf-8")
    settings = _settings(tmp_path / "home", models_dir)
    _ingest(settings, folder, embedder)
    (folder / "rapport-corrige.md").write_text(report_text(changed=2), encoding="utf-8")
    counting = CountingEmbedder(embedder)
    report = _ingest(settings, folder, counting)
    assert report.count("added") == 1 and 1 <= len(counting.passages) <= 2 and report.reused >= 6

    # The original goes: its copy keeps every vector it shares with it, nothing stale is offered later.
    (folder / "rapport.md").unlink()
    _ingest(settings, folder, embedder, prune=True)
    chunks, vectors = _chunks(settings), _vectors(settings)
    assert vectors.keys() == chunks.keys() and len(chunks) >= 8
    (folder / "rapport.md").write_text(report_text(changed=3), encoding="utf-8")
    again = CountingEmbedder(embedder)
    report = _ingest(settings, folder, again)
    assert report.count("added") == 1 and len(again.passages) <= 4  # paragraphs 2 and 3 differ from the copy


def test_cache_off_embeds_every_passage_with_the_same_result(tmp_path, models_dir, embedder):
    """``embed_cache = "off"`` keeps the old path selectable for comparison: everything embedded, same store."""
    folder = tmp_path / "docs"
    folder.mkdir()
    report = folder / "rapport.md"
    report.write_text(report_text(), encoding="utf-8")
    on, off = (_settings(tmp_path / f"home-{c}", models_dir, embed_cache=c) for c in ("on", "off"))
    for settings in (on, off):
        _ingest(settings, folder, embedder)
    old_texts = set(_chunks(on).values())
    report.write_text(report_text(changed=0), encoding="utf-8")
    counted = {}
    for settings in (on, off):
        counting = CountingEmbedder(embedder)
        counted[settings.embed_cache] = (_ingest(settings, folder, counting), len(counting.passages))
    chunks = _chunks(on)
    assert chunks == _chunks(off)
    changed = [t for t in chunks.values() if t not in old_texts]
    assert counted["off"][1] == counted["off"][0].embedded == len(chunks) and counted["off"][0].reused == 0
    assert counted["on"][1] == counted["on"][0].embedded == len(changed) < len(chunks)
    with_cache, without = _vectors(on), _vectors(off)
    assert all(float(v @ with_cache[k]) > 0.99999 for k, v in without.items())
