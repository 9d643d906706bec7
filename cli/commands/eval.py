"""`veille eval`: the evaluation harness (corpus set, PIAF, SPF, CNIL) with a dated report."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from rich.table import Table

from cli.console import err, out
from eval.answerability import SCORERS, SETS, run_from_args
from eval.configs import expand
from eval.datasets import BENCHES, load_bench
from eval.report import ANSWER_COLS, LABELS, REPORTS_DIR, write_report
from eval.runner import Runner, peak_memory_mb
from veille.config import get_settings

DEFAULT_BENCHES = "corpus,piaf,spf"


def _split(value: str) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def cmd_eval(args) -> int:
    if args.answerability:  # answer or refuse at scale (eval/answerability.py)
        return run_from_args(args, "veille eval " + " ".join(sys.argv[2:]))
    benches = _split(args.bench)
    unknown = [b for b in benches if b not in BENCHES]
    if unknown:
        err.print(f"Banc inconnu : {', '.join(unknown)} (choix : {', '.join(BENCHES)}).")
        return 2
    try:
        configs = expand(_split(args.retriever), _split(args.embedder), _split(args.fusion))
    except ValueError as exc:
        err.print(str(exc))
        return 2
    started = time.perf_counter()
    settings = get_settings()
    with Runner(settings, progress=not args.no_progress, limit=args.limit) as runner:
        for bench in benches:
            if bench == "corpus":
                runner.run_corpus(configs)
                continue
            try:
                data = load_bench(bench, fast=args.fast, full=args.full)
            except FileNotFoundError as exc:
                err.print(f"[yellow]{exc} Banc ignoré.[/]")
                continue
            runner.run_bench(data, configs, peer=not args.no_peer, full=args.full or bench == "cnil")
    result = runner.result
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "command": "veille eval " + " ".join(sys.argv[2:]),
            "configurations": [c.name for c in configs], "fast": args.fast, "full": args.full,
            "peak_memory_mb": peak_memory_mb(), "seconds": round(time.perf_counter() - started, 1)}
    folder = None
    if not args.no_report:
        folder = write_report(result, meta, Path(args.out) if args.out else REPORTS_DIR)
    if args.json:
        print(json.dumps(result.summary, ensure_ascii=False))
    else:
        _print_tables(result)
    for note in result.notes:
        err.print(note)
    if folder:
        err.print(f"Rapport : {folder / 'report.md'}")
    return 0


def _print_tables(result) -> None:
    for bench, configs in result.summary.items():
        cols = ["hit@1", "hit@10", "mrr@10", "ndcg@10"]
        if bench == "corpus":
            cols += list(ANSWER_COLS)
        cols += ["total_p50_ms", "total_p95_ms"]
        # Metrics as rows, configurations side by side as columns: fits a terminal with many metrics.
        table = Table(title=f"Banc : {bench}")
        table.add_column("métrique", style="bold")
        for name in configs:
            table.add_column(name, justify="right")
        for c in cols:
            values = [configs[name].get(c) for name in configs]
            table.add_row(LABELS.get(c, c), *[f"{v:.3f}" if isinstance(v, float) else str(v if v is not None else "–")
                                              for v in values])
        out.print(table)


def configure(p) -> None:
    p.add_argument("--bench", default=DEFAULT_BENCHES, metavar="BANCS", help="bancs, séparés par des virgules : corpus,piaf,spf,cnil "
                   f"(défaut : {DEFAULT_BENCHES} ; cnil demande ../shared)")
    p.add_argument("--retriever", default="hybrid", metavar="MODES", help="bm25,dense,hybrid (défaut : hybrid)")
    p.add_argument("--embedder", default="e5-small", metavar="MODÈLES", help="e5-small,use-m3 (défaut : e5-small)")
    p.add_argument("--fusion", default="wsum", metavar="FUSIONS", help="fusion du mode hybride : wsum,rrf (défaut : wsum)")
    p.add_argument("--fast", action="store_true", help="sous-ensembles rapides (porte de qualité de la CI)")
    p.add_argument("--full", action="store_true", help="PIAF et SPF complets depuis ../shared au lieu des extraits")
    p.add_argument("--limit", type=int, metavar="N", help="au plus N questions par banc (essais)")
    p.add_argument("--no-peer", action="store_true", help="sans le BM25 simple de contrôle (bm25s)")
    p.add_argument("--json", action="store_true", help="imprimer le résumé en un objet JSON sur la sortie standard")
    p.add_argument("--out", metavar="DOSSIER", help="dossier des rapports (défaut : eval/reports)")
    p.add_argument("--no-report", action="store_true", help="ne pas écrire de dossier de rapport")
    p.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    p.add_argument("--answerability", action="store_true",
                   help="réponse ou refus à l'échelle : retrait des références (PIAF, SPF, CNIL), démonstration "
                        "parmi des milliers de passages (voir --sets, --scorer)")
    p.add_argument("--sets", default=",".join(SETS), metavar="JEUX",
                   help=f"avec --answerability : jeux ({','.join(SETS)})")
    p.add_argument("--scorer", default=",".join(SCORERS), metavar="MODES",
                   help=f"avec --answerability : modes de réponse côte à côte ({','.join(SCORERS)})")
    p.set_defaults(func=cmd_eval)
