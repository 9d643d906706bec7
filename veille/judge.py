"""The answer judge: a small cross-encoder reading (question, sentence) and giving the probability that the
sentence holds the answer.

It is multilingual-e5-small cut to ``FROZEN_LAYERS + 1`` layers: e5's embeddings and first layers as they
are, then one layer trained on PIAF's training questions (``python -m eval.train_judge``) and a linear head
on its mean-pooled output. Only the trained layer and head are shipped (a ``.npz`` of a few MB); the judge
is joined to the packaged e5 weights and exported to ONNX once (``export_judge``, by ``veille build-model``
or the first use), then runs under ONNX Runtime with ``tokenizers``, like the embedder: no torch at answer
time. One pair of ~40 tokens costs a few milliseconds (README « Réponse ou refus »).
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from veille.heap import return_large_blocks
from veille.model_build import (ONNX_INFO, ONNX_MODEL, ONNX_TOKENIZER, ExportFailed, export_fused, mean_pool, pad,
                                publish_export, source_fingerprint)

FROZEN_LAYERS = 4  # e5's layers used as they are; the next one is the trained one
MAX_LENGTH = 128  # tokens of a pair (question and sentence), cut from the longer side
QUERY, PASSAGE = "query: ", "passage: "  # e5's prompts: the question reads as a query, the sentence as a passage
JUDGE_FORMAT = 1  # bumped when the export changes


def pair_inputs(tokenizer, questions: Sequence[str], sentences: Sequence[str], **kwargs):
    """A transformers tokenizer's encoding of the pairs, as the judge reads them (training and export)."""
    return tokenizer([QUERY + q for q in questions], [PASSAGE + s for s in sentences], truncation="longest_first",
                     max_length=MAX_LENGTH, padding=True, **kwargs)


def additive_mask(mask):
    """The (batch, 1, 1, tokens) mask BERT's eager attention adds to its scores."""
    import torch

    return (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min


def new_top(model_dir: Path):
    """The trained part, started from e5: its layer ``FROZEN_LAYERS`` and a fresh linear head."""
    import torch
    from transformers import AutoModel

    e5 = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    return torch.nn.ModuleDict({"layer": e5.encoder.layer[FROZEN_LAYERS],
                                "head": torch.nn.Linear(e5.config.hidden_size, 1)})


def top_logits(top, hidden, mask):
    """Logits of the trained part over e5's frozen output ``hidden`` (batch, tokens, dim) and its mask."""
    out = top["layer"](hidden, attention_mask=additive_mask(mask))
    out = out[0] if isinstance(out, tuple) else out
    return top["head"](mean_pool(out, mask)).squeeze(-1)


def save_top(state: dict, path: Path, meta: dict) -> None:
    """The trained weights as float16 arrays, and what was measured when they were chosen."""
    arrays = {k: v.detach().cpu().numpy().astype(np.float16) for k, v in state.items()}
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays, meta=np.array(json.dumps(meta, ensure_ascii=False)))


def read_meta(path: Path) -> dict:
    with np.load(path) as data:
        return json.loads(str(data["meta"]))


def judge_fingerprint(model_dir: Path, weights: Path) -> str:
    digest = hashlib.sha256(Path(weights).read_bytes()).hexdigest()
    return hashlib.sha256(f"judge {JUDGE_FORMAT}\n{source_fingerprint(model_dir)}\n{digest}".encode()).hexdigest()


def export_judge(model_dir: Path, weights: Path, target: Path) -> Path:
    """The whole judge (e5's first layers, the trained one, the head, the sigmoid) as one fused ONNX graph,
    made again when the e5 folder or the weights change; same lock and checks as ``export_onnx``."""
    return publish_export(Path(target), judge_fingerprint(model_dir, weights),
                          lambda tmp: _export_judge(Path(model_dir), Path(weights), tmp), model_dir)


def _export_judge(model_dir: Path, weights: Path, tmp: Path) -> None:
    import onnxruntime as ort
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    encoder.encoder.layer = encoder.encoder.layer[:FROZEN_LAYERS + 1]
    encoder.config.num_hidden_layers = FROZEN_LAYERS + 1
    top = torch.nn.ModuleDict({"layer": encoder.encoder.layer[FROZEN_LAYERS],
                               "head": torch.nn.Linear(encoder.config.hidden_size, 1)})
    with np.load(weights) as data:
        state = {k: torch.from_numpy(data[k].astype(np.float32)) for k in data.files if k != "meta"}
    top.load_state_dict(state)
    top.eval()

    class Judge(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.head = encoder, top["head"]

        def forward(self, input_ids, attention_mask):
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return torch.sigmoid(self.head(mean_pool(tokens, attention_mask)).squeeze(-1))

    wrapped = Judge().eval()
    sample = pair_inputs(tokenizer, ["exemple"], ["un exemple un peu plus long"], return_tensors="pt")
    fused = export_fused(wrapped, sample, "probability", encoder.config, tmp)
    # Checked against the training's own two-stage path (frozen encoder, then the trained layer).
    check = pair_inputs(tokenizer, ["Quand les pôles de compétitivité ont-ils été créés ?", "Qui ?"],
                        ["Les pôles de compétitivité ont été créés en 2004 par l'État.", "Court. " * 200],
                        return_tensors="pt")
    frozen = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    frozen.encoder.layer = frozen.encoder.layer[:FROZEN_LAYERS]
    frozen.config.num_hidden_layers = FROZEN_LAYERS
    with torch.inference_mode():
        hidden = frozen(**check).last_hidden_state
        expected = torch.sigmoid(top_logits(top, hidden, check["attention_mask"])).numpy()
    session = ort.InferenceSession(str(tmp / ONNX_MODEL), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": check["input_ids"].numpy(),
                             "attention_mask": check["attention_mask"].numpy()})[0]
    gap = float(np.max(np.abs(expected - got)))
    if gap > 1e-3:
        raise ExportFailed(f"L'export ONNX du juge de réponse ne redonne pas ses probabilités (écart {gap:.4f}).")
    pad_id = tokenizer.pad_token_id
    (tmp / ONNX_TOKENIZER).write_text(tokenizer.backend_tokenizer.to_str(), encoding="utf-8")
    (tmp / ONNX_INFO).write_text(json.dumps({
        "fingerprint": judge_fingerprint(model_dir, weights), "source": str(model_dir), "weights": str(weights),
        "max_length": MAX_LENGTH, "pad_id": int(pad_id if pad_id is not None else 0), "check_gap": gap,
        "fused": fused.get_fused_operator_statistics(), "torch": torch.__version__}, indent=2))


@dataclass
class Judge:
    """The exported judge under ONNX Runtime: ``score(question, sentences)`` -> probabilities."""
    path: str  # the export folder
    threads: int = 0
    layers: int = FROZEN_LAYERS + 1

    def __post_init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(self.path)
        info = json.loads((folder / ONNX_INFO).read_text())
        self.pad_id = int(info["pad_id"])
        self.tokenizer = Tokenizer.from_file(str(folder / ONNX_TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(int(info["max_length"]), strategy="longest_first")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self.threads > 0:
            options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        return_large_blocks()
        self.session = ort.InferenceSession(str(folder / ONNX_MODEL), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def encode(self, question: str, sentences: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch([(QUERY + question, PASSAGE + s) for s in sentences])]

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        ids, mask = pad(self.encode(question, sentences), self.pad_id)
        with self._lock:
            return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0].astype(np.float32)


def judge_export_dir(models_dir: Path, weights: Path) -> Path:
    return Path(models_dir) / "onnx" / f"judge-{hashlib.sha1(str(Path(weights).resolve()).encode()).hexdigest()[:10]}"


@lru_cache(maxsize=2)
def load_judge(model_dir: Path, weights: Path, models_dir: Path, threads: int) -> Judge:
    """The judge for these weights, exported first when needed; loaded once per process."""
    return Judge(str(export_judge(model_dir, weights, judge_export_dir(models_dir, weights))), threads)

