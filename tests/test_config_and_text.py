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


def test_progress_and_the_kill_hook_are_read_through_settings(tmp_path, monkeypatch):
    """VEILLE_PROGRESS and VEILLE_TEST_KILL_AT are fields of Settings, read once per process by get_settings."""
    from ingestion import killpoints
    from veille import progress

    env = {"VEILLE_CONFIG": str(tmp_path / "absent.toml")}
    assert load_settings(env).progress == "auto" and load_settings(env).test_kill_at is None
    forced = load_settings({**env, "VEILLE_PROGRESS": "1", "VEILLE_TEST_KILL_AT": "after_commit:2"})
    assert forced.progress == "1" and forced.test_kill_at == "after_commit:2"
    monkeypatch.setattr(progress.sys.stderr, "isatty", lambda: False)  # a pipe, a log
    monkeypatch.setattr(progress, "get_settings", lambda: forced)
    assert not progress.make_progress().disable and progress.make_progress(enabled=False).disable
    monkeypatch.setattr(progress, "get_settings", lambda: load_settings(env))
    assert progress.make_progress().disable
    exits = []
    monkeypatch.setattr(killpoints.os, "_exit", exits.append)
    monkeypatch.setattr(killpoints, "get_settings", lambda: forced)
    monkeypatch.setattr(killpoints, "_reached", killpoints.Counter())
    for stage in ("after_vectors", "after_commit", "after_commit"):
        killpoints.kill_point(stage)
    assert exits == [137]  # the second time it reaches after_commit, not before, not another step


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
