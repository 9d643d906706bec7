"""Configuration precedence and the French analysis shared by index and queries."""
from __future__ import annotations

import pytest

from veille.config import load_settings
from veille.text import split_sentences, tokens


def test_env_overrides_toml_and_unknown_keys_are_refused(tmp_path):
    home = tmp_path / "h"
    home.mkdir()
    (home / "veille.toml").write_text('top_k = 5\nembedder = "use-m3"\n', encoding="utf-8")
    s = load_settings({"VEILLE_HOME": str(home), "VEILLE_TOP_K": "12"})
    assert s.home == home and s.top_k == 12 and s.embedder == "use-m3"
    assert s.collection_name == "veille_use-m3"
    s = load_settings({"VEILLE_HOME": str(home), "VEILLE_CHROMA_URL": "http://127.0.0.1:8123"})
    assert s.chroma_url == "http://127.0.0.1:8123" and s.store_dir == home / "chroma"
    (home / "veille.toml").write_text("inconnu = 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="inconnu"):
        load_settings({"VEILLE_HOME": str(home)})


def test_french_analysis_folds_elisions_accents_and_plurals():
    assert tokens("l'innovation") == tokens("innovation")
    assert tokens("Économie régionale") == tokens("economie regionale")
    assert tokens("les pôles de compétitivité") == tokens("pôle compétitivité")
    assert tokens("le la les de du") == []


def test_sentences_respect_abbreviations_and_give_exact_spans():
    text = "M. Dupont préside. Le 1er comité a eu lieu le 4 juillet 2017 ! Puis la suite…\nUn titre"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["M. Dupont préside.", "Le 1er comité a eu lieu le 4 juillet 2017 !",
                                             "Puis la suite…", "Un titre"]


def test_sentences_broken_by_wrapping_or_a_stray_blank_line_are_made_whole():
    from ingestion.normalize import clean_text

    text = ("Cette régionalisation s'inscrit dans les discussions ayant pour objectif un renforcement de la\n\n"
            "décentralisation et des responsabilités des Régions.\n\n"
            "À savoir\n\n"
            "Une phrase complète qui se termine bien par un point final, comme il se doit ici.\n\n"
            "la suivante commence en minuscule mais reste un autre paragraphe.")
    paragraphs = clean_text(text).split("\n\n")
    assert paragraphs[0] == ("Cette régionalisation s'inscrit dans les discussions ayant pour objectif un "
                             "renforcement de la décentralisation et des responsabilités des Régions.")
    assert paragraphs[1] == "À savoir"  # a heading stays on its own
    assert len(paragraphs) == 4  # a finished sentence is not glued to the next paragraph
    glued = clean_text("Un référentiel coordonné par A. Juillet (en 2006).Ces réflexions ont abouti en IE.Cela a suivi.")
    assert glued == "Un référentiel coordonné par A. Juillet (en 2006). Ces réflexions ont abouti en IE. Cela a suivi."
