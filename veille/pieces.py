"""The tokenizer of the ONNX path: e5's XLM-R Unigram run by ``sentencepiece``, with the ids of ``tokenizers``.

Why not ``tokenizers`` (kept for the tokenizers that do not convert, and as the peer of the tests and of
scripts/bench_tokenizer.py): its Unigram model holds the 250,002 pieces in
a byte trie of hash maps, 280 MB of every process that embeds (a fifth of an ingestion's peak) and 0.7 s to load;
sentencepiece's double-array trie holds the same vocabulary in 67 MB and loads in 0.36 s. The SentencePiece model
is written from the export's ``tokenizer.json`` (pieces in id order, same scores, its precompiled normaliser), so
the ids are the same: 12,565 of 12,566 benchmark passages and questions, the other a tie between two splits of
equal score (« .... » as « ... » + « . » against « . » + « ... »), README « Le tokenizer ». Written by hand
because no library converts in this direction (transformers converts SentencePiece to ``tokenizers`` only).

Only a Unigram ``tokenizer.json`` with a precompiled normaliser and Metaspace pre-tokenisation converts (XLM-R,
e5); any other (MiniLM's WordPiece) stays on ``tokenizers``.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

PIECES_MODEL = "tokenizer.model"  # written beside tokenizer.json in an export folder ...
PIECES_STAMP = "tokenizer.model.json"  # ... with what it was made from: rebuilt when either changes
PIECES_FORMAT = 2  # bumped when the conversion changes


class IdsTokenizer(Protocol):
    def encode_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, special tokens included, cut to the model's length."""
        ...


def _frame(spec: dict) -> tuple[str | None, str | None] | None:
    """The special tokens the post-processor puts before and after a single text (``<s>`` … ``</s>``): one at
    most on each side (SentencePiece's bos and eos), None for any other template."""
    post = spec.get("post_processor") or {}
    if post.get("type") != "TemplateProcessing":
        return None
    before: list[str] = []
    after: list[str] = []
    seen_text = False
    for item in post.get("single", []):
        if "Sequence" in item:
            seen_text = True
        elif "SpecialToken" in item:
            (after if seen_text else before).append(item["SpecialToken"]["id"])
    if not seen_text or len(before) > 1 or len(after) > 1:
        return None
    return (before[0] if before else None, after[0] if after else None)


def _precompiled_charsmap(normalizer: dict | None) -> str | None:
    if not normalizer:
        return None
    if normalizer.get("type") == "Precompiled":
        return normalizer.get("precompiled_charsmap")
    if normalizer.get("type") == "Sequence" and len(normalizer.get("normalizers", [])) == 1:
        return _precompiled_charsmap(normalizer["normalizers"][0])
    return None


def _metaspace_only(pre: dict | None) -> bool:
    """Whitespace split then « ▁ » before every word: what SentencePiece's dummy prefix and escaping do."""
    if not pre:
        return False
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    kinds = [s.get("type") for s in steps]
    metaspace = [s for s in steps if s.get("type") == "Metaspace"]
    return (kinds in (["Metaspace"], ["WhitespaceSplit", "Metaspace"]) and metaspace[0].get("replacement") == "▁"
            and metaspace[0].get("prepend_scheme", "always") == "always")


def _specials(spec: dict) -> dict[str, int]:
    """Added tokens, content → id: the special tokens ``tokenizers`` matches in raw text."""
    return {t["content"]: int(t["id"]) for t in spec.get("added_tokens", [])}


def sentencepiece_bytes(spec: dict) -> bytes | None:
    """A serialised SentencePiece Unigram model giving ``spec``'s ids, or None when ``spec`` does not convert."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    model = spec.get("model") or {}
    charsmap = _precompiled_charsmap(spec.get("normalizer"))
    frame = _frame(spec)
    added = spec.get("added_tokens", [])
    specials = _specials(spec)
    unk = model.get("unk_id")
    if (model.get("type") != "Unigram" or model.get("byte_fallback") or charsmap is None or unk is None
            or not _metaspace_only(spec.get("pre_tokenizer")) or frame is None
            or any(token is not None and token not in specials for token in frame)):
        return None
    if any(t.get("lstrip") or t.get("rstrip") or t.get("single_word") or not t.get("special") for t in added):
        return None  # tokens matched with options the split in PieceTokenizer does not reproduce
    control = set(specials.values())
    proto = pb.ModelProto()
    Piece = pb.ModelProto.SentencePiece
    for i, (piece, score) in enumerate(model["vocab"]):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, score
        entry.type = Piece.UNKNOWN if i == unk else Piece.CONTROL if i in control else Piece.NORMAL
    trainer = proto.trainer_spec
    trainer.model_type = pb.TrainerSpec.UNIGRAM
    trainer.vocab_size = len(model["vocab"])
    bos, eos = frame
    trainer.unk_id, trainer.unk_piece = int(unk), model["vocab"][unk][0]
    trainer.bos_id, trainer.bos_piece = (specials[bos], bos) if bos else (-1, "<s>")
    trainer.eos_id, trainer.eos_piece = (specials[eos], eos) if eos else (-1, "</s>")
    trainer.pad_id = -1  # batches are padded by the caller
    normalizer = proto.normalizer_spec
    normalizer.name = "nmt_nfkc"
    normalizer.precompiled_charsmap = base64.b64decode(charsmap)
    normalizer.add_dummy_prefix = normalizer.remove_extra_whitespaces = normalizer.escape_whitespaces = True
    return proto.SerializeToString()


@dataclass
class PieceTokenizer:
    """SentencePiece ids framed (bos, eos) and cut as the ``tokenizers`` post-processor and truncation do.

    As ``tokenizers`` does, special tokens written in a text (« <mask> », « </s> » in an HTML or code passage)
    are matched before normalisation and get their own ids, and the text around them is cut piece by piece.
    NEL (U+0085, « … » of cp1252 read as Latin-1) is a space for ``tokenizers``' whitespace split and not for
    the precompiled normaliser: it is made a space first."""

    model: bytes
    max_length: int
    specials: dict[str, int]

    def __post_init__(self) -> None:
        import sentencepiece

        self.processor = sentencepiece.SentencePieceProcessor(model_proto=self.model)
        self.before = [self.processor.bos_id()] if self.processor.bos_id() >= 0 else []
        self.after = [self.processor.eos_id()] if self.processor.eos_id() >= 0 else []
        self.room = max(self.max_length - len(self.before) - len(self.after), 0)
        ordered = sorted(self.specials, key=len, reverse=True)  # the longest match first, as tokenizers
        self._special = re.compile("(" + "|".join(map(re.escape, ordered)) + ")") if ordered else None

    def _pieces(self, texts: list[str]) -> list[list[int]]:
        texts = [t.replace("\x85", " ") for t in texts]
        if self._special is None:
            return self.processor.encode(texts)
        marked = [self._special.search(t) is not None for t in texts]
        out = self.processor.encode(["" if m else t for t, m in zip(texts, marked)])
        for i in (i for i, m in enumerate(marked) if m):
            ids: list[int] = []
            for k, part in enumerate(self._special.split(texts[i])):  # text, special, text, …
                ids += [self.specials[part]] if k % 2 else self.processor.encode(part) if part else []
            out[i] = ids
        return out

    def encode_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.before + ids[:self.room] + self.after for ids in self._pieces(list(texts))]


@dataclass
class HubTokenizer:
    """The ``tokenizers`` path (the export's tokenizer.json as it is): for the tokenizers that do not convert, and
    the reference the sentencepiece path is checked against."""

    path: Path
    max_length: int

    def __post_init__(self) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(self.path))
        self.tokenizer.no_padding()  # batches are padded by the caller, to their longest text
        self.tokenizer.enable_truncation(self.max_length)

    def encode_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]


def _converted(source: bytes) -> tuple[bytes, dict] | None:
    """(SentencePiece model, stamp: what it was made from) of a ``tokenizer.json``'s bytes, None when it does not
    convert or sentencepiece is missing."""
    spec = json.loads(source)
    try:
        model = sentencepiece_bytes(spec)
    except ImportError:
        return None
    if model is None:
        return None
    return model, {"format": PIECES_FORMAT, "source_sha256": hashlib.sha256(source).hexdigest(),
                   "specials": _specials(spec)}


def load_tokenizer(folder: Path, max_length: int) -> IdsTokenizer:
    """The tokenizer of an export folder: sentencepiece, its model read from ``tokenizer.model``, (re)written
    there when missing or made from another ``tokenizer.json`` or conversion (exports made before it existed),
    when the folder can be written; ``tokenizers`` when the tokenizer does not convert or sentencepiece is not
    installed."""
    folder = Path(folder)
    source = (folder / "tokenizer.json").read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    try:
        stamp = json.loads((folder / PIECES_STAMP).read_text(encoding="utf-8"))
        if stamp.get("format") == PIECES_FORMAT and stamp.get("source_sha256") == digest:
            return PieceTokenizer((folder / PIECES_MODEL).read_bytes(), max_length, stamp["specials"])
    except (OSError, ValueError, KeyError, ImportError):
        pass
    converted = _converted(source)
    if converted is not None:
        _write_beside_export(folder, *converted)
        return PieceTokenizer(converted[0], max_length, converted[1]["specials"])
    return HubTokenizer(folder / "tokenizer.json", max_length)


def write_pieces(folder: Path) -> bool:
    """Write ``tokenizer.model`` beside the folder's tokenizer.json (export time, in the export's private
    folder); False when it does not convert or sentencepiece is missing (the first load then falls back)."""
    converted = _converted((Path(folder) / "tokenizer.json").read_bytes())
    if converted is None:
        return False
    (Path(folder) / PIECES_MODEL).write_bytes(converted[0])
    (Path(folder) / PIECES_STAMP).write_text(json.dumps(converted[1]), encoding="utf-8")
    return True


def _write_beside_export(folder: Path, model: bytes, stamp: dict) -> None:
    """Atomic writes under the export's lock (``publish_export`` takes it to replace the folder): a reader never
    sees half a model, and a folder being rebuilt is left alone. A busy lock or a read-only models folder is no
    error: the model is then converted in memory at each load."""
    try:
        with open(folder.parent / f"{folder.name}.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if hashlib.sha256((folder / "tokenizer.json").read_bytes()).hexdigest() != stamp["source_sha256"]:
                return  # republished meanwhile
            _replace(folder / PIECES_MODEL, model)
            _replace(folder / PIECES_STAMP, json.dumps(stamp).encode())  # last: the model is complete
    except OSError:
        return


def _replace(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise
