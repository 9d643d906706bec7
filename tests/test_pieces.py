"""The ONNX path cuts texts with sentencepiece into the ids ``tokenizers`` gives (stores stay compatible whichever
tokenizer built them); its memory is measured by scripts/bench_ingest.py and scripts/bench_cold_start.py."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from veille.config import Settings
from veille.embeddings import build_embedder, onnx_export_dir
from veille.pieces import (PIECES_MODEL, PIECES_STAMP, HubTokenizer, PieceTokenizer, load_tokenizer,
                           sentencepiece_bytes)

EDGE_CASES = ["", " ", "\t\n", "Court.", "  espaces   multiples  et fin  ",
              "espace\u00a0insécable\u202f: « guillemets »", "cp1252 lu en Latin-1\x85 NEL\x85",
              "balises <mask> et </s>, <s>collée<pad>  <unk>b", "<mask>",
              "ligatures ﬁnance ﬂux", "accents décomposés : e\u0301te\u0301, o\u0302te\u0301", "émoji 😀 et 日本語",
              "Zéro\u200blargeur", "C'est l’été — tiret – et … points", "URL https://www.cci.fr/aide?x=1&y=2",
              "MAJUSCULES ÉTÉ ÇA", "chiffres 1 234,56 € 12 % 2024-03-01", "\x00\x01 contrôle \x7f",
              " ".join(["Le port du Havre investit dans les quais et la desserte ferroviaire."] * 80)]


@pytest.fixture(scope="module")
def export(models_dir):
    settings = Settings(models_path=models_dir)
    build_embedder("e5-small", settings)  # makes the export if needed
    return onnx_export_dir(str(models_dir / "multilingual-e5-small"), settings)


def _real_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((REPO / "corpus").rglob("*"))
             if p.is_file() and p.suffix in (".txt", ".md", ".html")]
    rows = [json.loads(line) for line in (REPO / "eval" / "corpus_set.jsonl").open(encoding="utf-8")]
    return texts + [r["question"] for r in rows]


def test_sentencepiece_gives_the_ids_of_tokenizers(export):
    info = json.loads((export / "export.json").read_text())
    pieces = load_tokenizer(export, int(info["max_length"]))
    hub = HubTokenizer(export / "tokenizer.json", int(info["max_length"]))
    assert isinstance(pieces, PieceTokenizer) and isinstance(hub, HubTokenizer)
    texts = [prefix + t for t in EDGE_CASES + _real_texts() for prefix in ("query: ", "passage: ")]
    got, expected = pieces.encode_ids(texts), hub.encode_ids(texts)
    assert [i for i in range(len(texts)) if got[i] != expected[i]] == []
    assert max(len(ids) for ids in got) == info["max_length"]  # long texts cut to the model's length, </s> kept
    assert got[-1][0] == 0 and got[-1][-1] == 2


def test_an_export_without_the_pieces_model_gets_it_at_first_load_and_again_when_its_tokenizer_changes(export,
                                                                                                       tmp_path):
    copy = tmp_path / "export"
    copy.mkdir()
    for name in ("tokenizer.json", "export.json"):
        shutil.copy(export / name, copy / name)
    assert not (copy / PIECES_MODEL).exists()
    first = load_tokenizer(copy, 512)
    assert isinstance(first, PieceTokenizer) and (copy / PIECES_MODEL).is_file() and (copy / PIECES_STAMP).is_file()
    assert load_tokenizer(copy, 512).encode_ids(["passage: Bonjour"]) == first.encode_ids(["passage: Bonjour"])
    assert [p.name for p in copy.iterdir() if p.name.startswith(PIECES_MODEL + ".") and p.name != PIECES_STAMP] == []
    # tokenizer.json replaced (a rebuilt export, another model): the old pieces model is not used
    spec = json.loads((copy / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = spec["model"]["vocab"]
    vocab[4], vocab[5] = vocab[5], vocab[4]  # « , » and « . » swap ids
    (copy / "tokenizer.json").write_text(json.dumps(spec), encoding="utf-8")
    rebuilt = load_tokenizer(copy, 512)
    hub = HubTokenizer(copy / "tokenizer.json", 512)
    assert rebuilt.encode_ids(["passage: a, b."]) == hub.encode_ids(["passage: a, b."])
    assert rebuilt.encode_ids(["passage: a, b."]) != first.encode_ids(["passage: a, b."])
    assert json.loads((copy / PIECES_STAMP).read_text())["source_sha256"] != json.loads(
        (export / PIECES_STAMP).read_text())["source_sha256"]


def test_the_int8_mixed_export_carries_the_pieces_model(models_dir):
    int8 = build_embedder("e5-small", Settings(models_path=models_dir, embed_quantize="int8-mixed"))
    assert isinstance(int8.tokenizer, PieceTokenizer)
    assert (Path(int8.path) / PIECES_MODEL).is_file() and (Path(int8.path) / PIECES_STAMP).is_file()


def test_a_tokenizer_that_does_not_convert_stays_on_tokenizers(export, tmp_path):
    spec = json.loads((export / "tokenizer.json").read_text(encoding="utf-8"))
    wordpiece = {**spec, "model": {**spec["model"], "type": "WordPiece"}}
    assert sentencepiece_bytes(wordpiece) is None
    assert sentencepiece_bytes({**spec, "normalizer": {"type": "NFKC"}}) is None
    assert sentencepiece_bytes(spec) is not None
    (tmp_path / "tokenizer.json").write_text(json.dumps({**spec, "normalizer": {"type": "NFKC"}}), encoding="utf-8")
    assert isinstance(load_tokenizer(tmp_path, 512), HubTokenizer)
    assert not (tmp_path / PIECES_MODEL).exists()


def test_the_embedder_uses_sentencepiece_with_the_vectors_of_tokenizers(models_dir):
    """A store embedded through ``tokenizers`` (before the change, or a model that does not convert) answers the
    same."""
    settings = Settings(models_path=models_dir)
    default = build_embedder("e5-small", settings)
    hub = build_embedder("e5-small", settings)
    hub.tokenizer = HubTokenizer(Path(hub.path) / "tokenizer.json", hub.max_length)
    assert isinstance(default.tokenizer, PieceTokenizer)
    texts = EDGE_CASES[3:]
    assert np.sum(default.embed_passages(texts) * hub.embed_passages(texts), axis=1).min() >= 0.9999

