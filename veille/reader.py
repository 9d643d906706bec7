"""The reader: a cross-encoder trained here that reads (question, passage) and says what the passage states.

It is multilingual-e5-small cut to its first ``LAYERS`` layers, trained end to end on PIAF's training
questions (``python -m eval.train_reader``) as an extractive reader in the SQuAD 2.0 manner, with three heads:
- the answer span (start and end logits over the passage's tokens, the first token standing for « none »);
- ``answers``: the passage states the answer to the question;
- ``relevant``: the passage speaks of what the question is about (whether or not it answers it).
Word, position and type embeddings stay e5's (frozen): only the layers and heads are shipped
(``assistant/answering/reader.npz``, float16), joined to the packaged e5 weights and exported to ONNX once
(``export_reader``, by ``veille build-model`` or the first use); answering runs under ONNX Runtime with
``tokenizers``, no torch. A passage longer than a window is read in overlapping windows.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from veille.heap import return_large_blocks
from veille.model_build import (ONNX_INFO, ONNX_MODEL, ONNX_TOKENIZER, ExportFailed, export_fused, pad,
                                publish_export, source_fingerprint)

LAYERS = 6  # e5's first layers (12 cost twice the time for a reader trained in an hour on this CPU)
MAX_LENGTH = 192  # tokens of a window: question, passage part, special tokens
STRIDE = 64  # passage tokens shared by neighbouring windows
MAX_QUESTION = 48  # question tokens kept
MAX_ANSWER = 30  # longest span, in tokens
QUERY, PASSAGE = "query: ", "passage: "  # e5's prompts
READER_FORMAT = 2  # bumped when the export changes
READER_PATH = Path(__file__).resolve().parent.parent / "assistant" / "answering" / "reader.npz"


@dataclass
class Window:
    """One window of a (question, passage) pair as the reader reads it."""
    ids: list[int]
    first: int  # index in ``ids`` of the first passage token
    offsets: list[tuple[int, int]]  # character span in the passage text of each passage token of the window


def make_windows(tokenizer, question: str, text: str, max_length: int = MAX_LENGTH,
                 stride: int = STRIDE) -> list[Window]:
    """The windows of ``text`` paired with ``question``: ``<s> query: q </s></s> passage: part </s>``.
    ``tokenizer`` is a ``tokenizers.Tokenizer`` (training and answering use the same function)."""
    cls, sep = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    q = tokenizer.encode(QUERY + question, add_special_tokens=False).ids[:MAX_QUESTION]
    encoded = tokenizer.encode(PASSAGE + text, add_special_tokens=False)
    shift = len(PASSAGE)
    prompt, ids, offsets = [], [], []
    for tid, (a, b) in zip(encoded.ids, encoded.offsets):
        if b <= shift and not ids:
            prompt.append(tid)
        else:
            ids.append(tid)
            offsets.append((max(a - shift, 0), max(b - shift, 0)))
    head = [cls, *q, sep, sep, *prompt]
    room = max(max_length - len(head) - 1, 16)
    windows, start = [], 0
    while True:
        part = slice(start, start + room)
        windows.append(Window([*head, *ids[part], sep], len(head), offsets[part]))
        if start + room >= len(ids):
            return windows
        start += room - stride


def best_span(start: np.ndarray, end: np.ndarray, first: int, count: int,
              max_answer: int = MAX_ANSWER) -> tuple[int, int, float]:
    """The passage tokens (i, j) maximising start[i] + end[j], i <= j < i + max_answer, and that score
    minus the first token's (the span is trained on answering windows only: whether there is an answer is
    the ``answers`` head's call)."""
    s = start[first:first + count]
    e = end[first:first + count]
    scores = s[:, None] + e[None, :]
    allowed = np.triu(np.ones((count, count), dtype=bool)) & ~np.triu(np.ones((count, count), dtype=bool),
                                                                       k=max_answer)
    scores = np.where(allowed, scores, -np.inf)
    i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(i), int(j), float(scores[i, j] - (start[0] + end[0]))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


# ---------------------------------------------------------------------------------------------- torch side
def new_net(model_dir: Path, layers: int = LAYERS):
    """The reader started from e5: its first ``layers`` layers, fresh heads, embeddings frozen."""
    import torch
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", add_pooling_layer=False)
    encoder.encoder.layer = encoder.encoder.layer[:layers]
    encoder.config.num_hidden_layers = layers
    for p in encoder.embeddings.parameters():
        p.requires_grad_(False)
    return ReaderNet(encoder)


def _module():
    import torch

    class _ReaderNet(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder
            hidden = encoder.config.hidden_size
            self.span = torch.nn.Linear(hidden, 2)
            self.heads = torch.nn.Linear(hidden, 2)  # answers, relevant

        def forward(self, input_ids, attention_mask):
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            span = self.span(tokens)
            # The heads read the mean of the tokens, as e5 pools: e5's first token comes out nearly the same
            # whatever the input (a reader heading on it learned nothing in an hour: held AUC 0.51).
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            heads = self.heads((tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0))
            # One output for ONNX: per token [start, end], then the two head logits repeated on every token.
            return torch.cat([span, heads[:, None, :].expand(-1, span.shape[1], -1)], dim=-1)

    return _ReaderNet


def ReaderNet(encoder):  # noqa: N802 - a class made lazily (torch is imported only where training or exporting)
    return _module()(encoder)


def trained_state(net) -> dict:
    """What training changed (layers and heads): the embeddings are e5's and are not shipped."""
    return {k: v for k, v in net.state_dict().items() if not k.startswith("encoder.embeddings.")}


def save_weights(net, path: Path, meta: dict) -> None:
    arrays = {k: v.detach().cpu().numpy().astype(np.float16) for k, v in trained_state(net).items()}
    tmp = Path(path).with_suffix(".tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays, meta=np.array(json.dumps(meta, ensure_ascii=False)))
    tmp.replace(path)


def read_meta(path: Path) -> dict:
    with np.load(path) as data:
        return json.loads(str(data["meta"]))


def load_weights(net, path: Path) -> dict:
    import torch

    with np.load(path) as data:
        state = {k: torch.from_numpy(data[k].astype(np.float32)) for k in data.files if k != "meta"}
        meta = json.loads(str(data["meta"]))
    missing = net.load_state_dict(state, strict=False)
    if missing.unexpected_keys or any(not k.startswith("encoder.embeddings.") for k in missing.missing_keys):
        raise ExportFailed(f"Poids du lecteur incompatibles ({path}).")
    return meta


def reader_fingerprint(model_dir: Path, weights: Path) -> str:
    digest = hashlib.sha256(Path(weights).read_bytes()).hexdigest()
    return hashlib.sha256(f"reader {READER_FORMAT}\n{source_fingerprint(model_dir)}\n{digest}".encode()).hexdigest()


def export_reader(model_dir: Path, weights: Path, target: Path) -> Path:
    """The reader as one fused ONNX graph, made again when the e5 folder or the weights change."""
    return publish_export(Path(target), reader_fingerprint(model_dir, weights),
                          lambda tmp: _export_reader(Path(model_dir), Path(weights), tmp), model_dir)


def _export_reader(model_dir: Path, weights: Path, tmp: Path) -> None:
    import onnxruntime as ort
    import torch
    from transformers import AutoTokenizer

    meta = read_meta(weights)
    net = new_net(model_dir, int(meta.get("layers", LAYERS))).eval()
    load_weights(net, weights)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir)).backend_tokenizer
    batch = [make_windows(tokenizer, "Quand les pôles ont-ils été créés ?",
                          "Les pôles de compétitivité ont été créés en 2004 par l'État. " * 3)[0],
             make_windows(tokenizer, "Qui ?", "Court.")[0]]
    ids, mask = pad([w.ids for w in batch], int(tokenizer.token_to_id("<pad>")))
    sample = {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask)}
    fused = export_fused(net, sample, "logits", net.encoder.config, tmp, output_axes={0: "batch", 1: "tokens"})
    with torch.inference_mode():
        expected = net(sample["input_ids"], sample["attention_mask"]).numpy()
    session = ort.InferenceSession(str(tmp / ONNX_MODEL), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    gap = float(np.max(np.abs((expected - got) * mask[:, :, None])))
    if gap > 1e-2:
        raise ExportFailed(f"L'export ONNX du lecteur ne redonne pas ses scores (écart {gap:.4f}).")
    (tmp / ONNX_TOKENIZER).write_text(tokenizer.to_str(), encoding="utf-8")
    (tmp / ONNX_INFO).write_text(json.dumps({
        "fingerprint": reader_fingerprint(model_dir, weights), "source": str(model_dir), "weights": str(weights),
        "check_gap": gap, "fused": fused.get_fused_operator_statistics(), "torch": torch.__version__,
        "meta": meta}, indent=2, ensure_ascii=False))


# ---------------------------------------------------------------------------------------------- answering side
@dataclass
class Reading:
    """What the reader makes of one passage for one question."""
    answers: float  # calibrated probability that the passage states the answer
    relevant: float  # calibrated probability that the passage speaks of the question's subject
    span: tuple[int, int] | None  # character offsets of the answer in the passage text
    span_score: float = 0.0  # best span score minus the « none » score (raw)
    raw: dict = field(default_factory=dict)


@dataclass
class Calibration:
    """Platt scaling of the two heads' logits, fitted on the training split's held articles."""
    answers: tuple[float, float] = (1.0, 0.0)
    relevant: tuple[float, float] = (1.0, 0.0)

    @classmethod
    def of(cls, meta: dict) -> "Calibration":
        cal = meta.get("calibration", {})
        return cls(tuple(cal.get("answers", (1.0, 0.0))), tuple(cal.get("relevant", (1.0, 0.0))))


class Reader:
    """The exported reader under ONNX Runtime: ``read(question, texts)`` -> one ``Reading`` per text."""

    def __init__(self, path: str, threads: int = 0):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(path)
        info = json.loads((folder / ONNX_INFO).read_text())
        self.meta = info.get("meta", {})
        self.calibration = Calibration.of(self.meta)
        self.tokenizer = Tokenizer.from_file(str(folder / ONNX_TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.pad_id = int(self.tokenizer.token_to_id("<pad>"))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads > 0:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        return_large_blocks()
        self.session = ort.InferenceSession(str(folder / ONNX_MODEL), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        ids, mask = pad([w.ids for w in windows], self.pad_id)
        with self._lock:
            return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def read(self, question: str, texts: Sequence[str], focus: Sequence[int | None] | None = None,
             max_windows: int = 2) -> list[Reading]:
        """One reading per text. A long text is read in its first window and the one around ``focus`` (a
        character offset: the sentence the search found best), at most ``max_windows``; the best is kept."""
        if not texts:
            return []
        windows, owner = [], []
        for k, text in enumerate(texts):
            every = make_windows(self.tokenizer, question, text)
            chosen = [0]
            spot = focus[k] if focus else None
            if spot is not None:
                around = [i for i, w in enumerate(every) if w.offsets and w.offsets[0][0] <= spot < w.offsets[-1][1]]
                # the window where the focus sits most centrally (neighbouring windows overlap)
                if around:
                    chosen.append(around[-1] if len(around) > 1 else around[0])
            for i in list(dict.fromkeys(chosen))[:max_windows]:
                windows.append(every[i])
                owner.append(k)
        out = self.logits(windows)
        a_ans, b_ans = self.calibration.answers
        a_rel, b_rel = self.calibration.relevant
        best: dict[int, Reading] = {}
        for row, (w, k) in enumerate(zip(windows, owner)):
            logits = out[row]
            i, j, margin = best_span(logits[:, 0], logits[:, 1], w.first, len(w.offsets))
            reading = Reading(float(sigmoid(a_ans * logits[0, 2] + b_ans)),
                              float(sigmoid(a_rel * logits[0, 3] + b_rel)),
                              (w.offsets[i][0], w.offsets[j][1]), margin,
                              {"answers": float(logits[0, 2]), "relevant": float(logits[0, 3])})
            seen = best.get(k)
            # The text's span is its most answering window's; it is relevant if any window is.
            if seen is not None:
                reading.relevant = seen.relevant = max(seen.relevant, reading.relevant)
            if seen is None or reading.answers > seen.answers:
                best[k] = reading
        return [best[k] for k in range(len(texts))]


def reader_export_dir(models_dir: Path, weights: Path) -> Path:
    return Path(models_dir) / "onnx" / f"reader-{hashlib.sha1(str(Path(weights).resolve()).encode()).hexdigest()[:10]}"


@lru_cache(maxsize=2)
def load_reader(model_dir: Path, weights: Path, models_dir: Path, threads: int) -> Reader:
    """The reader for these weights, exported first when needed; loaded once per process."""
    return Reader(str(export_reader(model_dir, weights, reader_export_dir(models_dir, weights))), threads)
