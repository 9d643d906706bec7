"""The dated report folder: Markdown (configurations side by side), per-question JSON, PNG plots."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from eval.runner import RunResult

REPORTS_DIR = Path(__file__).resolve().parent / "reports"
RETRIEVAL_COLS = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@10")
ANSWER_COLS = ("coverage", "citation_precision", "refusal_precision", "refusal_recall", "false_refusal_rate",
               "follow_up_success")
LABELS = {"coverage": "couverture", "citation_precision": "préc. citations", "refusal_precision": "préc. refus",
          "refusal_recall": "rappel refus", "false_refusal_rate": "refus à tort",
          "follow_up_success": "relances réussies"}


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:,.1f}".replace(",", " ")
    return str(value) if value is not None else "–"


def markdown(result: RunResult, meta: dict) -> str:
    lines = [f"# Évaluation Veille — {meta['date']}", "", f"Commande : `{meta['command']}`", "",
             f"Mémoire maximale du processus : {meta['peak_memory_mb']} Mo · durée : {meta['seconds']:.0f} s", ""]
    for bench, configs in result.summary.items():
        lines += [f"## {bench}", ""]
        cols = list(RETRIEVAL_COLS)
        if bench == "corpus":
            cols += list(ANSWER_COLS)
        stage_cols = sorted({k for m in configs.values() for k in m if k.endswith("_ms")})
        cols += ["total_p50_ms", "total_p95_ms"] if "total_p50_ms" in stage_cols else []
        cols += ["ingest_passages_per_s", "questions"]
        lines.append("| configuration | " + " | ".join(LABELS.get(c, c) for c in cols) + " |")
        lines.append("|---|" + "---|" * len(cols))
        for name, m in configs.items():
            lines.append(f"| {name} | " + " | ".join(_fmt(m.get(c)) for c in cols) + " |")
        lines.append("")
        other = [c for c in stage_cols if not c.startswith("total")]
        if other:
            lines += ["Latence par étape (ms, p50 / p95) :", ""]
            stages = sorted({c.rsplit("_p", 1)[0] for c in other})
            lines.append("| configuration | " + " | ".join(stages) + " |")
            lines.append("|---|" + "---|" * len(stages))
            for name, m in configs.items():
                cells = [f"{_fmt(m.get(f'{s}_p50_ms'))} / {_fmt(m.get(f'{s}_p95_ms'))}" if f"{s}_p50_ms" in m else "–"
                         for s in stages]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
            lines.append("")
    if result.notes:
        lines += ["## Contrôles", ""] + [f"- {n}" for n in result.notes] + [""]
    lines += ["## Fichiers", "", "- `summary.json` : le résumé ci-dessus ;",
              "- `questions.json` : une ligne par question et configuration (réponse, passages, scores) ;",
              "- `metrics.png`, `latency.png`, `refusal.png` : graphiques.", ""]
    return "\n".join(lines)


def plots(result: RunResult, folder: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    benches = list(result.summary)
    if benches:
        fig, axes = plt.subplots(1, len(benches), figsize=(5.5 * len(benches), 4.2), squeeze=False)
        metrics = ("hit@1", "hit@10", "mrr@10", "ndcg@10")
        for ax, bench in zip(axes[0], benches):
            configs = list(result.summary[bench])
            width = 0.8 / max(1, len(configs))
            for i, name in enumerate(configs):
                values = [result.summary[bench][name].get(m, 0.0) for m in metrics]
                ax.bar([j + i * width for j in range(len(metrics))], values, width, label=name)
            ax.set_xticks([j + 0.4 - width / 2 for j in range(len(metrics))], metrics)
            ax.set_ylim(0, 1)
            ax.set_title(bench)
            ax.legend(fontsize=7, loc="lower right")
        fig.suptitle("Recherche : métriques par configuration et par banc")
        fig.tight_layout()
        written.append(_save(fig, folder / "metrics.png"))
    latencies: dict[str, list[float]] = {}
    for row in result.questions:
        latencies.setdefault(f"{row['bench']}\n{row['config']}", []).append(row["latency_ms"])
    if latencies:
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(latencies)), 4.2))
        ax.boxplot(list(latencies.values()), showfliers=True)
        ax.set_xticks(range(1, len(latencies) + 1), list(latencies), fontsize=6, rotation=30)
        ax.set_yscale("log")
        ax.set_ylabel("latence par question (ms, échelle log)")
        ax.set_title("Distribution des latences")
        fig.tight_layout()
        written.append(_save(fig, folder / "latency.png"))
    corpus_rows = [r for r in result.questions if r["bench"] == "corpus"]
    if corpus_rows:
        configs = list(dict.fromkeys(r["config"] for r in corpus_rows))
        fig, axes = plt.subplots(1, len(configs), figsize=(5 * len(configs), 3.8), squeeze=False)
        for ax, name in zip(axes[0], configs):
            rows = [r for r in corpus_rows if r["config"] == name]
            ax.hist([r["confidence"] for r in rows if not r["unanswerable"]], bins=20, range=(0, 1), alpha=0.6,
                    label="avec réponse")
            ax.hist([r["confidence"] for r in rows if r["unanswerable"]], bins=20, range=(0, 1), alpha=0.6,
                    label="sans réponse")
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("confiance (Answer.confidence)")
            ax.legend(fontsize=7)
        fig.suptitle("Score de refus : questions avec et sans réponse")
        fig.tight_layout()
        written.append(_save(fig, folder / "refusal.png"))
    return written


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(result: RunResult, meta: dict, root: Path = REPORTS_DIR) -> Path:
    folder = root / dt.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps({"meta": meta, "summary": result.summary, "notes": result.notes},
                                                    ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "questions.json").write_text(json.dumps(result.questions, ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    (folder / "report.md").write_text(markdown(result, meta), encoding="utf-8")
    plots(result, folder)
    return folder
