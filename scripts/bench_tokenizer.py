"""The ONNX path's two tokenizers side by side: sentencepiece (default) against ``tokenizers`` (its peer), over
every passage and question of the benchmarks and the demo corpus — same ids?, time, load time and the memory
each holds once loaded (each loaded in a fresh process).

    .venv/bin/python scripts/bench_tokenizer.py [--limit N] [--variants 3000]

``--variants N`` also rewrites N passages drawn at random (fixed seed) as user files often are (NFD accents,
ligatures, narrow no-break spaces, zero-width characters, typographic apostrophes) and counts differing texts.

Needs the e5 export (`veille build-model`); without ``../shared`` only the demo corpus and its questions are read.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from veille.config import get_settings  # noqa: E402
from veille.embeddings import onnx_export_dir, resolve_model_path  # noqa: E402
from veille.pieces import HubTokenizer, load_tokenizer  # noqa: E402

SHARED = REPO.parent / "shared"
console = Console()
VARIANTS = {
    "NFD": lambda t: unicodedata.normalize("NFD", t),
    "ligatures": lambda t: t.replace("fi", "\ufb01").replace("fl", "\ufb02").replace("ff", "\ufb00"),
    "espaces fines": lambda t: t.replace(" :", "\u202f:").replace(" ?", "\u202f?").replace(" %", "\u00a0%"),
    "largeur nulle": lambda t: t.replace(". ", ". \u200b").replace(", ", ",\u2028 "),
    "apostrophes": lambda t: t.replace("'", "\u2019").replace('"', "\u00ab\u00a0"),
}


def texts(limit: int) -> list[str]:
    """Passages with e5's « passage: » prefix, questions with « query: », as the embedder sends them."""
    passages = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((REPO / "corpus").rglob("*"))
                if p.is_file()]
    questions = [json.loads(line)["question"] for line in (REPO / "eval" / "corpus_set.jsonl").open(encoding="utf-8")]
    for name in ("piaf", "spf", "cnil"):
        corpus, qa = SHARED / "bench" / name / "corpus.jsonl", SHARED / "bench" / name / "qa.jsonl"
        if corpus.exists():
            passages += [json.loads(line)["text"] for line in corpus.open(encoding="utf-8")]
        if qa.exists():
            questions += [json.loads(line).get("question", "") for line in qa.open(encoding="utf-8")]
    out = ["passage: " + t for t in passages] + ["query: " + q for q in questions]
    return out[:limit] if limit else out


def tokenizer(export: Path, max_length: int, engine: str):
    """Veille's tokenizer (sentencepiece), or its peer ``tokenizers`` on the export's tokenizer.json."""
    return load_tokenizer(export, max_length) if engine == "sentencepiece" else HubTokenizer(
        export / "tokenizer.json", max_length)


def loaded_cost(export: Path, engine: str) -> tuple[float, int]:
    """(load seconds, resident anonymous kB added) of one tokenizer, in a fresh process."""
    code = ("import sys, time; from pathlib import Path; from veille.pieces import HubTokenizer, load_tokenizer;"
            "anon = lambda: [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('RssAnon')][0];"
            "import sentencepiece, tokenizers; a = anon(); t = time.perf_counter(); e = Path("
            f"{str(export)!r}); tk = load_tokenizer(e, 512) if sys.argv[1] == 'sentencepiece' else "
            "HubTokenizer(e / 'tokenizer.json', 512); tk.encode_ids(['query: x']);"
            "print(time.perf_counter() - t, anon() - a)")
    out = subprocess.run([sys.executable, "-c", code, engine], cwd=REPO, capture_output=True, text=True, check=True)
    seconds, kb = out.stdout.split()
    return float(seconds), int(kb)


def main() -> None:
    parser = argparse.ArgumentParser(description="Tokenizer du chemin ONNX : sentencepiece contre tokenizers.")
    parser.add_argument("--limit", type=int, default=0, help="textes lus au plus (0 = tous)")
    parser.add_argument("--variants", type=int, default=0, help="passages récrits par variante (0 = aucun)")
    args = parser.parse_args()
    settings = get_settings()
    export = onnx_export_dir(resolve_model_path("e5-small", settings)[0], settings)
    if not (export / "export.json").is_file():
        sys.exit("Export ONNX absent : lancer d'abord `veille build-model`.")
    max_length = int(json.loads((export / "export.json").read_text())["max_length"])
    batch = texts(args.limit)
    results = {}
    for engine in ("sentencepiece", "tokenizers"):
        loaded = tokenizer(export, max_length, engine)
        started = time.perf_counter()
        results[engine] = (loaded.encode_ids(batch), time.perf_counter() - started, *loaded_cost(export, engine))
    ids, peer = results["sentencepiece"][0], results["tokenizers"][0]
    differ = [i for i in range(len(batch)) if ids[i] != peer[i]]
    table = Table(title=f"{len(batch):,} textes ({sum(map(len, batch)):,} caractères)".replace(",", " "))
    for column in ("tokenizer", "découpage (s)", "chargement (s)", "mémoire chargée (Mo)", "ratio mémoire"):
        table.add_column(column, justify="right")
    peer_kb = results["tokenizers"][3]
    for engine, (_ids, seconds, load, kb) in results.items():
        table.add_row(engine, f"{seconds:.2f}", f"{load:.2f}", f"{kb / 1024:.0f}", f"{kb / peer_kb:.2f}")
    console.print(table)
    console.print(f"Identifiants différents : {len(differ)} textes sur {len(batch)}")
    for i in differ[:5]:
        first = next((k for k, (a, b) in enumerate(zip(ids[i], peer[i])) if a != b), min(len(ids[i]), len(peer[i])))
        console.print(f"  {batch[i][:70]!r} : position {first}, {ids[i][first:first + 3]} contre "
                      f"{peer[i][first:first + 3]}")

    if args.variants:
        hub = tokenizer(export, max_length, "tokenizers")
        pieces = tokenizer(export, max_length, "sentencepiece")
        passages = [t for t in batch if t.startswith("passage: ")]
        sample = random.Random(1).sample(passages, min(args.variants, len(passages)))
        for name, rewrite in VARIANTS.items():
            rewritten = [rewrite(t) for t in sample]
            a, b = pieces.encode_ids(rewritten), hub.encode_ids(rewritten)
            console.print(f"Variante {name} : {sum(x != y for x, y in zip(a, b))} textes différents sur {len(sample)}")


if __name__ == "__main__":
    main()
