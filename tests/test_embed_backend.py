"""Both backends running e5 give the same vectors (stores stay compatible whichever built them; sentence-transformers'
own encode is the reference in tests/test_model.py), and a process that only asks questions imports neither torch
nor transformers under the default (ONNX) backend: most of the cold start it saves."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from veille.config import Settings
from veille.embeddings import OnnxEmbedder, TransformersEmbedder, USEEmbedder, build_embedder, onnx_export_dir
from veille.errors import UnknownChoice, VeilleError
from veille.model_build import ONNX_INFO, ExportFailed, export_is_current, source_fingerprint

TEXTS = ["Quels sont les pôles de compétitivité en Normandie ?",
         "La CCI accompagne les PME normandes à l'export : diagnostic, salons, prospection.",
         "Court.",
         "Espaces en fin de texte, tabulation\tet espace insécable\u00a0: « guillemets »  ",
         " ".join(["Le port du Havre investit dans les quais et la desserte ferroviaire."] * 80)]  # > 512 tokens


def _assert_same_vectors(a, b):
    for x, y in ((a.embed_queries(TEXTS), b.embed_queries(TEXTS)), (a.embed_passages(TEXTS), b.embed_passages(TEXTS))):
        assert x.shape == y.shape == (len(TEXTS), 384)
        cosines = np.sum(x * y, axis=1)
        assert cosines.min() >= 0.9999, cosines
        assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


def test_onnx_backend_gives_the_transformers_vectors(models_dir):
    settings = Settings(models_path=models_dir)  # the default backend
    onnx = build_embedder("e5-small", settings)
    assert isinstance(onnx, OnnxEmbedder) and onnx.dim == 384
    torch_path = build_embedder("e5-small", settings.with_(embed_backend="transformers"))
    assert isinstance(torch_path, TransformersEmbedder) and torch_path.dim == 384
    _assert_same_vectors(onnx, torch_path)
    assert float(torch_path.embed_queries(TEXTS[:1])[0] @ torch_path.embed_passages(TEXTS[4:])[0]) < 0.95
    assert float(onnx.embed_queries(TEXTS[:1])[0] @ onnx.embed_passages(TEXTS[4:])[0]) < 0.95
    assert onnx.embed_queries([]).shape == (0, 384)
    # Batches of different widths give the vector a text gets alone (padding is masked out).
    alone = np.stack([onnx.embed_passages([t])[0] for t in TEXTS])
    assert np.sum(alone * onnx.embed_passages(TEXTS), axis=1).min() >= 0.9999


def test_the_onnx_export_is_made_once(models_dir):
    settings = Settings(models_path=models_dir)
    build_embedder("e5-small", settings)
    export = onnx_export_dir(str(models_dir / "multilingual-e5-small"), settings)
    stamp = (export / "model.onnx").stat().st_mtime_ns
    build_embedder("e5-small", settings)
    assert (export / "model.onnx").stat().st_mtime_ns == stamp


def test_unknown_backend_is_a_french_error(models_dir):
    with pytest.raises(UnknownChoice, match="Moteur d'embedding inconnu.*« onxx ».*onnx, transformers\\)"):
        build_embedder("e5-small", Settings(models_path=models_dir, embed_backend="onxx"))
    with pytest.raises(UnknownChoice, match="« sentence-transformers ».*onnx, transformers\\)"):
        build_embedder("e5-small", Settings(models_path=models_dir, embed_backend="sentence-transformers"))


def test_a_model_that_is_not_mean_pooled_or_not_a_folder_is_a_french_error(tmp_path):
    settings = Settings(models_path=tmp_path / "models")
    folder = tmp_path / "modele-cls"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps(
        [{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Pooling"}]))
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    with pytest.raises(VeilleError, match="non pris en charge.*regroupent leurs jetons par moyenne"):
        build_embedder(str(folder), settings)
    with pytest.raises(UnknownChoice, match="Modèle d'embedding inconnu.*« intfloat/multilingual-e5-small »"):
        build_embedder("intfloat/multilingual-e5-small", settings)


def test_a_question_only_process_imports_neither_torch_nor_transformers(models_dir, embedder):
    # ``embedder`` makes the export first, in this process: the one measured here only loads it.
    code = ("import sys; from pathlib import Path; from veille.config import Settings;"
            "from veille.embeddings import get_embedder;"
            f"v = get_embedder(Settings(models_path=Path({str(models_dir)!r}))).embed_queries(['Quelles aides ?']);"
            "print(v.shape, *(m in sys.modules for m in ('torch', 'transformers', 'sentence_transformers')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(1,", "384)", "False", "False", "False"], out.stdout + out.stderr


def test_build_model_prepares_the_onnx_model_the_cli_then_uses(models_dir, tmp_path):
    env = {**os.environ, "VEILLE_HOME": str(tmp_path), "VEILLE_MODELS_PATH": str(models_dir)}
    out = subprocess.run([sys.executable, "-m", "cli", "build-model"], cwd=REPO, env=env, capture_output=True,
                         text=True, check=True)
    assert "Modèle « e5-small » prêt (dimension 384, moteur ONNX Runtime)" in " ".join(out.stdout.split())
    export = onnx_export_dir(str(models_dir / "multilingual-e5-small"), Settings(models_path=models_dir))
    assert (export / "model.onnx").is_file() and (export / "model.onnx.data").stat().st_size > 100_000_000


def test_use_m3_has_its_own_engine_and_int8_is_only_int8_mixed(models_dir):
    settings = Settings(models_path=models_dir)
    assert isinstance(build_embedder("use-m3", settings), USEEmbedder)
    with pytest.raises(UnknownChoice, match="Quantification inconnue.*« int8 ».*int8-mixed, none"):
        build_embedder("e5-small", settings.with_(embed_quantize="int8"))


def test_int8_mixed_runs_a_quantised_export_that_ranks_like_fp32(models_dir):
    settings = Settings(models_path=models_dir)
    fp32 = build_embedder("e5-small", settings)
    int8 = build_embedder("e5-small", settings.with_(embed_quantize="int8-mixed"))
    assert isinstance(int8, OnnxEmbedder) and int8.path != fp32.path
    info = json.loads((Path(int8.path) / ONNX_INFO).read_text())
    assert (info["quantized"], info["int8_operators"], info["fp32_matmuls"]) == ("int8-mixed", 24, 24)
    for a, b in ((int8.embed_queries(TEXTS), fp32.embed_queries(TEXTS)),
                 (int8.embed_passages(TEXTS), fp32.embed_passages(TEXTS))):
        cosines = np.sum(a * b, axis=1)
        assert 0.99 <= cosines.min() and cosines.max() < 0.99999, cosines  # close, yet really quantised
    # Each question finds the same passage first either way.
    questions = ["Qui aide les PME à exporter ?", "Quels travaux au port du Havre ?"]
    ranked = [np.argmax(e.embed_queries(questions) @ e.embed_passages(TEXTS[1:]).T, axis=1) for e in (int8, fp32)]
    assert ranked[0].tolist() == ranked[1].tolist() == [0, 3]
    # Its vectors live in their own collection, never beside fp32 ones; torch cannot run it.
    assert settings.with_(embed_quantize="int8-mixed").collection_name == f"{settings.collection_name}-int8-mixed"
    with pytest.raises(VeilleError, match="int8-mixed passe par ONNX Runtime"):
        build_embedder("e5-small", settings.with_(embed_quantize="int8-mixed", embed_backend="transformers"))


def test_an_export_is_stale_once_its_model_folder_changes(tmp_path):
    model, export = tmp_path / "model", tmp_path / "export"
    model.mkdir()
    export.mkdir()
    (model / "config.json").write_text("{}")
    (export / ONNX_INFO).write_text(f'{{"fingerprint": "{source_fingerprint(model)}"}}')
    assert export_is_current(model, export)
    (model / "config.json").write_text('{"hidden_size": 384}')  # retrained or upgraded in place
    assert not export_is_current(model, export)
    assert not export_is_current(model, tmp_path / "missing")


def test_a_model_that_cannot_be_exported_is_a_french_error_and_leaves_nothing(models_dir, tmp_path):
    broken = tmp_path / "modele-sans-poids"
    shutil.copytree(models_dir / "multilingual-e5-small", broken, ignore=shutil.ignore_patterns("*.safetensors"))
    settings = Settings(models_path=tmp_path / "models")
    with pytest.raises(ExportFailed, match="Export ONNX du modèle impossible.*VEILLE_EMBED_BACKEND=transformers"):
        build_embedder(str(broken), settings)
    left = [p.name for p in (tmp_path / "models" / "onnx").iterdir() if not p.name.endswith(".lock")]
    assert left == []
