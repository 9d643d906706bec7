"""The answer judge as shipped: the trained weights joined to the packaged e5 and exported to ONNX the way
`veille build-model` and the first answer do it. It gives the probabilities of the training's own torch path,
cuts pairs into the same tokens as transformers, and its export is made again when the weights change. How
well it judges is measured by `veille eval --answerability` (README « Réponse ou refus »), not here."""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from assistant.answerability.judge import JUDGE_PATH, judge_candidates, load_judge_for
from assistant.answering.compose import sentence_candidates
from veille.config import Settings
from veille.embeddings import resolve_model_path
from veille.judge import FROZEN_LAYERS, MAX_LENGTH, judge_export_dir, load_judge, pair_inputs, top_logits
from veille.passage import Passage, ScoredPassage

# Questions with sentences on their subject (the first one answers).
CASES = [
    ("Quand les pôles de compétitivité ont-ils été créés ?",
     ["Les pôles de compétitivité ont été créés en 2004 par le gouvernement.",
      "Les pôles de compétitivité réunissent des entreprises, des laboratoires et des écoles.",
      "Chaque pôle de compétitivité anime des projets collaboratifs de recherche."]),
    ("Combien de salariés compte l'usine de Cléon ?",
     ["L'usine de Cléon emploie environ 3 000 salariés.",
      "L'usine de Cléon fabrique des moteurs et des boîtes de vitesses.",
      "L'usine de Cléon se trouve près de Rouen, en Seine-Maritime."]),
    ("Qui préside la CCI de Normandie ?",
     ["La CCI de Normandie est présidée par Jean Dupont depuis 2021.",
      "La CCI de Normandie accompagne les entreprises à l'export.",
      "La CCI de Normandie a son siège à Caen."]),
]


@pytest.fixture(scope="module")
def judge(models_dir):
    return load_judge_for(Settings(models_path=models_dir))


def test_onnx_gives_the_training_paths_probabilities_and_tokens(judge, models_dir):
    import torch
    from transformers import AutoModel, AutoTokenizer

    model_dir = resolve_model_path("e5-small", Settings(models_path=models_dir))[0]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    questions = ["Quel budget ?", "Où se trouve le siège du pôle Mov'eo ?" * 12, "Qui ?"]
    sentences = ["Le budget est de 4,5 millions d'euros. ", "Le siège est à Rouen.", "Texte\tavec\u00a0espaces " * 90]
    expected_ids = pair_inputs(tokenizer, questions, sentences)["input_ids"]
    for q, s, ids in zip(questions, sentences, expected_ids):
        got = judge.encode(q, [s])[0]
        assert got == [i for i in ids if i != tokenizer.pad_token_id]
        assert len(got) <= MAX_LENGTH
    frozen = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    frozen.encoder.layer = frozen.encoder.layer[:FROZEN_LAYERS]
    top = torch.nn.ModuleDict({"layer": AutoModel.from_pretrained(model_dir, attn_implementation="eager")
                               .encoder.layer[FROZEN_LAYERS], "head": torch.nn.Linear(384, 1)})
    with np.load(JUDGE_PATH) as data:
        top.load_state_dict({k: torch.from_numpy(data[k].astype(np.float32)) for k in data.files if k != "meta"})
    top.eval()
    for q, s in zip(questions, sentences):
        enc = pair_inputs(tokenizer, [q], [s], return_tensors="pt")
        with torch.inference_mode():
            expected = torch.sigmoid(top_logits(top, frozen(**enc).last_hidden_state, enc["attention_mask"])).numpy()
        assert abs(float(judge.score(q, [s])[0]) - float(expected[0])) < 1e-3


def test_the_export_is_made_again_when_the_weights_change(tmp_path, models_dir):
    model_dir = resolve_model_path("e5-small", Settings(models_path=models_dir))[0]
    weights = tmp_path / "judge.npz"
    shutil.copy(JUDGE_PATH, weights)
    first = load_judge(model_dir, weights, tmp_path / "models", 0).score(*CASES[0])
    with np.load(weights) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["head.bias"] = (arrays["head.bias"].astype(np.float32) - 3.0).astype(np.float16)
    np.savez(weights, **arrays)
    load_judge.cache_clear()
    second = load_judge(model_dir, weights, tmp_path / "models", 0).score(*CASES[0])
    assert np.all(second < first)  # the new head, not the old export
    assert (judge_export_dir(tmp_path / "models", weights) / "export.json").exists()
    assert not [p for p in (tmp_path / "models" / "onnx").iterdir() if ".partial-" in p.name]


def test_the_judged_candidates_skip_copies():
    text = "Les pôles de compétitivité ont été créés en 2004 par le gouvernement."
    passages = [ScoredPassage(node=Passage(id_=f"n{i}", text=text), score=1.0) for i in range(3)]
    candidates = sentence_candidates("Quand les pôles ont-ils été créés ?", passages, lambda t: 1.0)
    assert len(candidates) == 3 and len(judge_candidates(candidates)) == 1


def test_the_training_command_explains_itself_in_french():
    done = subprocess.run([sys.executable, "-m", "eval.train_judge", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0
    assert "juge de réponse" in done.stdout and "--write" in done.stdout


def test_build_model_prepares_the_judge_under_the_modes_that_use_it(models_dir, tmp_path):
    import os

    from veille.judge import judge_export_dir as export_dir

    env = {**os.environ, "VEILLE_HOME": str(tmp_path), "VEILLE_MODELS_PATH": str(models_dir),
           "VEILLE_ANSWERABILITY": "judge-consensus"}
    out = subprocess.run([sys.executable, "-m", "cli", "build-model"], cwd=JUDGE_PATH.parents[2], env=env,
                         capture_output=True, text=True, check=True, timeout=600)
    assert "Juge de réponse prêt (5 couches de e5-small, moteur ONNX Runtime)" in " ".join(out.stdout.split())
    assert (export_dir(models_dir, JUDGE_PATH) / "model.onnx").is_file()
    plain = subprocess.run([sys.executable, "-m", "cli", "build-model"], cwd=JUDGE_PATH.parents[2],
                           env={**env, "VEILLE_ANSWERABILITY": "consensus"}, capture_output=True, text=True,
                           check=True, timeout=600)
    assert "Juge" not in plain.stdout  # the default mode does not run it
