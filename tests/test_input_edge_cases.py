"""Unusual but honest files are read right, hostile ones are refused or cut with a French reason:
UTF-16/UTF-32 with BOM, UTF-8 and cp1252 lines mixed in one file, random high bytes, an absurd 2 MB
token, symbolic link loops, a file over the size limit."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from ingestion.chunk import CHARS_PER_WORD, chunk_text
from ingestion.pipeline import Ingestor
from veille.config import Settings
from veille.store import get_store

TEXT = ("Bulletin régional de la filière équine\n\nLa filière équine normande compte des éleveurs, des "
        "centres d'entraînement et des hippodromes ; elle pèse « plusieurs milliers » d'emplois à Deauville "
        "et dans l'Orne, où l'œuvre des haras reste un atout touristique.\n")
MIXED_UTF8 = "Le conseil régional finance l'accélérateur de la filière numérique à Caen.\n"
MIXED_CP1252 = "Les élus ont salué une démarche concertée, « très attendue » par les entreprises.\n"
RUN = "a" * (2 * 1024 * 1024)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, models_dir, embedder):
    root = tmp_path_factory.mktemp("edge")
    folder = root / "depot"
    folder.mkdir()
    (folder / "utf16-le.txt").write_bytes(TEXT.encode("utf-16"))  # BOM + little-endian
    (folder / "utf16-be.txt").write_bytes(b"\xfe\xff" + TEXT.replace("équine", "équestre").encode("utf-16-be"))
    (folder / "utf32.txt").write_bytes(TEXT.replace("équine", "du cheval").encode("utf-32"))
    (folder / "mixte.txt").write_bytes(b"".join([
        MIXED_UTF8.encode("utf-8"), MIXED_CP1252.encode("cp1252"),
        "Un second paragraphe rédigé en UTF-8 évoque l'été à Cherbourg.\n".encode("utf-8")]))
    rng = random.Random(17)
    (folder / "octets-hauts.txt").write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(16384)))
    (folder / "jeton-absurde.txt").write_text(f"Trois mots avant {RUN} puis trois après.\n", encoding="utf-8")
    long_address = "https://exemple.fr/" + "chemin/" * 57  # 418 characters: long, but a real token
    (folder / "adresses.md").write_text("# Liens utiles\n\n" + " ".join(
        f"Voir {long_address}{i} pour le dossier {i}." for i in range(40)) + "\n", encoding="utf-8")
    (folder / "enorme.txt").write_bytes(b"mot " * (21 * 1024 * 1024 // 4))  # 21 Mo, over the 20 Mo limit
    os.symlink("boucle.txt", folder / "boucle.txt")  # a link to itself
    os.symlink("b.md", folder / "a.md")
    os.symlink("a.md", folder / "b.md")
    (folder / "sous-dossier").mkdir()
    os.symlink("..", folder / "sous-dossier" / "parent")  # a folder link back up
    settings = Settings(home=root / "home", models_path=models_dir)
    assert settings.max_file_bytes == 20 * 1024 * 1024
    report = Ingestor(settings, embedder=embedder, progress=False).ingest_paths([folder])
    store = get_store(settings)
    docs = {Path(r["source"]).name: dict(r) for r in store.db.execute(
        "SELECT s.source, d.* FROM sources s JOIN documents d USING(doc_id)")}
    chunks = [dict(r) for r in store.db.execute(
        "SELECT c.text, s.source FROM chunks c JOIN sources s USING(doc_id)")]
    outcomes = {Path(o.source).name: o for o in report.outcomes}
    return {"report": report, "docs": docs, "chunks": chunks, "outcomes": outcomes, "settings": settings}


@pytest.mark.parametrize("name, needle", [("utf16-le.txt", "filière équine"), ("utf16-be.txt", "filière équestre"),
                                          ("utf32.txt", "filière du cheval")])
def test_utf16_and_utf32_with_bom_are_read(ingested, name, needle):
    assert ingested["outcomes"][name].status == "added", ingested["outcomes"][name].reason
    text = ingested["docs"][name]["text"]
    assert needle in text and "« plusieurs milliers »" in text and "l'œuvre des haras" in text
    assert "\ufffd" not in text and "\x00" not in text


def test_mixed_utf8_and_cp1252_lines_are_each_decoded(ingested):
    text = ingested["docs"]["mixte.txt"]["text"]
    assert "Le conseil régional finance l'accélérateur de la filière numérique à Caen." in text
    assert "Les élus ont salué une démarche concertée, « très attendue »" in text
    assert "l'été à Cherbourg" in text
    assert "Ã" not in text and "\ufffd" not in text


def test_random_high_bytes_are_refused_as_binary(ingested):
    outcome = ingested["outcomes"]["octets-hauts.txt"]
    assert outcome.status == "skipped" and "binaire" in outcome.reason
    assert "octets-hauts.txt" not in ingested["docs"]


def test_absurd_token_makes_no_giant_chunk(ingested):
    budget = ingested["settings"].chunk_tokens * CHARS_PER_WORD
    assert max(len(c["text"]) for c in ingested["chunks"]) <= budget
    doc = ingested["docs"]["jeton-absurde.txt"]
    assert doc["text"].split() == ["Trois", "mots", "avant", "puis", "trois", "après."]
    # Long but real tokens are kept, and the chunks holding them stay within the budget.
    addresses = [c for c in ingested["chunks"] if c["source"].endswith("adresses.md")]
    assert len(addresses) > 1 and all(len(c["text"]) <= budget for c in addresses)
    assert "chemin/chemin/" in ingested["docs"]["adresses.md"]["text"]


def test_chunker_cuts_a_token_longer_than_its_budget():
    text = f"Trois mots avant {RUN} puis trois après."
    chunks = chunk_text(text, 220, 1)
    assert max(len(c.text) for c in chunks) <= 220 * CHARS_PER_WORD
    assert "".join(c.text for c in chunks).count("a") >= len(RUN)  # cut, not lost
    assert all(text[c.start:c.end] == c.text for c in chunks)


def test_symlink_loops_are_reported(ingested):
    outcomes = ingested["outcomes"]
    for name in ("boucle.txt", "a.md", "b.md", "parent"):
        assert outcomes[name].status == "skipped" and "lien symbolique en boucle" in outcomes[name].reason, name
    problems = {Path(p["source"]).name: p["reason"] for p in ingested["report"].as_dict()["problems"]}
    assert "lien symbolique en boucle" in problems["boucle.txt"]  # the line `veille ingest` prints


def test_size_limit_is_shown_in_binary_megabytes(ingested):
    assert ingested["outcomes"]["enorme.txt"].reason == "fichier trop volumineux (21 Mo > 20 Mo)"
