"""The one configuration module of Veille.

Settings come, in increasing priority, from the defaults below, an optional TOML file
(``$VEILLE_CONFIG``, else ``$VEILLE_HOME/veille.toml``) and ``VEILLE_*`` environment variables.
Everything Veille writes (store, built models, caches, logs) lives under ``home``.
"""
from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from veille.errors import VeilleError

REPO_ROOT = Path(__file__).resolve().parent.parent
PROMPTS_DIR = REPO_ROOT / "prompts"
CORPUS_DIR = REPO_ROOT / "corpus"


def _offline_environment() -> None:
    """Keep every library of the stack away from the network (no hub, no analytics)."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",  # chromadb
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
    }.items():
        os.environ.setdefault(key, value)


_offline_environment()


class ConfigError(VeilleError, ValueError):
    """A configuration file or variable Veille cannot use."""


@dataclass(frozen=True)
class Settings:
    home: Path = REPO_ROOT / ".veille"
    # Store: embedded Chroma under home unless a server URL is given.
    chroma_url: str | None = None
    collection: str = "veille"
    # Embedding model: a registered name (e5-small, use-m3, minilm) or the local folder of a mean-pooled
    # sentence-transformers model.
    embedder: str = "e5-small"
    models_path: Path | None = None  # where built models live (default: home/models); shared by tests
    embed_batch_size: int = 64  # at most this many texts per forward pass
    embed_batch_tokens: int = 2048  # ... and at most this many tokens (padded): measured fastest on these CPUs
    # "int8-mixed": ONNX Runtime's dynamic int8 quantisation of the attentions and the FFN input projections, the
    # rest in fp32 (faster ingestion, a little less precise: docs/architecture.md « Choix mesurés »).
    embed_quantize: str = "none"
    # "on": a passage whose exact text (same model) is already stored reuses its vector; "off": embed every passage.
    embed_cache: str = "on"
    # Who runs e5/MiniLM (same vectors either way, cosine >= 0.9999): "onnx" (ONNX Runtime on an export made once
    # by `veille build-model`; no torch import: 1 s to load against 11 s, ingestion faster) or "transformers"
    # (torch, no export: the way out when the export fails, as its error says).
    embed_backend: str = "onnx"
    threads: int = 0  # 0 = let torch decide
    # Ingestion.
    chunk_tokens: int = 220  # target chunk size in (approximate) words
    chunk_overlap: int = 1  # sentences carried over between neighbouring chunks
    max_file_bytes: int = 20 * 1024 * 1024
    ingest_batch_chunks: int = 512  # chunks embedded and written together (bounded memory, frequent commits)
    ocr_max_pages: int = 50  # a scan of more pages is skipped (with its reason) rather than read by OCR
    ocr_max_seconds: float = 240.0  # OCR time one document may take (inside extract_max_seconds)
    ocr_max_page_pixels: int = 40_000_000  # a page rendered or image read for OCR (A2 at 300 dpi: 35 Mpx)
    # Budgets checked before reading (ingestion/limits.py): hostile files are refused or cut with the reason.
    archive_member_max_bytes: int = 100 * 1024 * 1024  # one member of a DOCX/XLSX/ODT/EPUB…, uncompressed
    archive_max_bytes: int = 500 * 1024 * 1024  # all members together, uncompressed
    archive_max_members: int = 20_000
    archive_max_ratio: int = 200  # uncompressed/compressed, for members over 10 MB (deflated XML: 5–30)
    document_max_chars: int = 3_000_000  # text read of one document (about 1,500 pages); the rest is cut, and said
    # Passages embedded for one document (about 500 pages); the rest is cut, and said. Costs ~2 min of embedding
    # and entities on this CPU (scripts/bench_hostile.py).
    document_max_passages: int = 1_000
    mail_max_attachments: int = 100  # per message; the others are listed as not read
    mail_max_parts: int = 1_000  # MIME parts per message
    mail_max_depth: int = 50  # MIME nesting per message
    # The fence (ingestion/fence.py): each file is extracted in a worker process, killed past these.
    extract_max_seconds: float = 300.0
    extract_max_memory: int = 2048 * 1024 * 1024  # address space of the worker (RLIMIT_AS), Tesseract included
    entities: str = "fr_core_news_md"  # spaCy pipeline finding entities at ingestion; "none" turns the stage off
    near_duplicates: str = "on"  # "off": every document is its own cluster (nothing folded)
    # Retrieval and answers.
    top_k: int = 8
    fusion: str = "wsum"  # "wsum" (min-max normalised weighted sum) or "rrf", chosen by veille eval
    fusion_dense_weight: float = 0.6  # tuned with veille eval on PIAF, SPF, CNIL (eval/README.md)
    candidates: int = 50
    refusal_threshold: float | None = None  # None: the threshold stored with the answerability model
    # Which sentences to quote and whether to answer: "rules" (lexical choice + the logistic model of
    # assistant/answerability/policy.py), "learned" (models trained on PIAF train, assistant/answerability/) or "consensus"
    # (the rules' sentences, answered only when both judges would), "judge" or "judge-consensus" (the answer judge,
    # a cross-encoder trained on PIAF train, alone or beside the consensus), "reader" (the extractive reader trained
    # on PIAF train: answer span, « pas de réponse précise » with what comes closest; not yet the default: see
    # docs/benchmarks.md « Lecteur »). Consensus refuses far more of the held-out
    # questions whose answer is absent (SPF 0.356 against 0.064) for a few answers fewer
    # (`veille eval --answerability`, docs/benchmarks.md « Réponse ou refus »).
    answerability: str = "consensus"
    watch_threshold: float = 0.50  # relevance a new document needs to appear in a saved watch
    # "on": `veille serve` also answers `veille ask` on a socket in home (assistant/ask_socket.py) and
    # `veille ask` asks it first, skipping seconds of model load; "off": neither (always in-process).
    ask_server: str = "on"
    # Optional OpenAI-compatible language model.
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_context: int = 0  # tokens of the server's context; 0: as the server says (llama.cpp /props, vLLM), else 8192
    llm_timeout: float = 60.0
    llm_retries: int = 2
    # Web collection.
    collect_allow_hosts: tuple[str, ...] = ()  # "host" (any port) or "host:port", "[v6]:port" (parse_host_entry)
    collect_delay: float = 1.0  # seconds between two requests to the same host (politeness)
    collect_concurrency: int = 8  # requests in flight, all hosts together
    collect_per_host: int = 2  # requests in flight to one host
    collect_timeout: float = 20.0  # seconds, per request
    collect_retries: int = 3  # attempts on transient errors (timeouts, 429, 5xx)
    collect_max_bytes: int = 10 * 1024 * 1024  # a larger body is abandoned mid-download
    collect_max_redirects: int = 5
    # Progress bars: "1" draws them even outside a terminal (a pipe, a log); "auto": only in a terminal.
    progress: str = "auto"
    # Test hook, never set in production: "<stage>[:<n>]" kills the process at the n-th time an update reaches
    # that step (ingestion/killpoints.py), as the crash tests need.
    test_kill_at: str | None = None

    @property
    def store_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def models_dir(self) -> Path:
        return self.models_path or self.home / "models"

    @property
    def db_path(self) -> Path:
        """SQLite file holding the document registry and the lexical index."""
        return self.home / "veille.db"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def collection_name(self) -> str:
        """One Chroma collection per embedding model: vectors of two models never mix."""
        slug = "".join(c if c.isalnum() or c in "._-" else "-" for c in self.embedder.rsplit("/", 1)[-1])
        if self.embed_quantize != "none":  # quantised vectors differ slightly: never mix them with fp32 ones
            slug += f"-{self.embed_quantize}"
        return f"{self.collection}_{slug}"[:512]

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


_CASTS = {int: int, float: float, str: str}


def parse_host_entry(entry: str) -> tuple[str, int | None]:
    """An allow-list entry ``host``, ``host:port``, ``[ipv6]:port``, a bare IPv6 address or a URL, as
    (host, port or None for any port). Hosts are lowercased; IP addresses are in canonical form, so that
    ``[0:0::1]`` and ``::1`` match, but a name is never its address: ``127.0.0.1`` is not ``localhost``."""

    raw = entry.strip()
    try:
        if "://" in raw:
            parts = urlsplit(raw)
            host, port = parts.hostname or "", parts.port
        elif raw.startswith("["):
            host, _, rest = raw[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") and rest[1:] else None
            if rest and port is None:
                raise ValueError
        elif raw.count(":") == 1:
            host, port_text = raw.split(":")
            port = int(port_text)
        else:
            host, port = raw, None
    except ValueError:
        raise ValueError(f"VEILLE_COLLECT_ALLOW_HOSTS : entrée invalide « {entry} » "
                         f"(attendu : hôte ou hôte:port)") from None
    host = host.lower().rstrip(".")
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        if not re.fullmatch(r"[\w-]+(\.[\w-]+)*", host):
            raise ValueError(f"VEILLE_COLLECT_ALLOW_HOSTS : nom d'hôte invalide « {entry} »") from None
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"VEILLE_COLLECT_ALLOW_HOSTS : port invalide dans « {entry} »")
    return host, port


def _cast(name: str, raw, kind):
    if kind in (Path, "Path", "Path | None"):
        return Path(raw).expanduser()
    if kind in ("tuple[str, ...]",) or name == "collect_allow_hosts":
        items = tuple(h.strip() for h in raw.split(",") if h.strip()) if isinstance(raw, str) else tuple(raw)
        if name == "collect_allow_hosts":
            for item in items:
                parse_host_entry(item)  # a typo is reported when the settings load, not ignored
        return items
    if kind in ("int", int):
        return int(raw)
    if kind in ("float", float, "float | None"):
        return None if raw in ("", None) else float(raw)
    if raw in ("", None):
        return None
    return str(raw)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    values: dict = {}
    home = Path(env.get("VEILLE_HOME", Settings.home)).expanduser()
    toml_path = Path(env.get("VEILLE_CONFIG", home / "veille.toml"))
    if toml_path.is_file():
        with toml_path.open("rb") as fh:
            values.update(tomllib.load(fh))
    for f in fields(Settings):
        key = "VEILLE_" + f.name.upper()
        if key in env:
            values[f.name] = env[key]
    known = {f.name: f.type for f in fields(Settings)}
    unknown = set(values) - set(known)
    if unknown:
        raise ConfigError(f"Réglages inconnus dans la configuration : {', '.join(sorted(unknown))}")
    return Settings(**{k: _cast(k, v, known[k]) for k, v in values.items()})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
