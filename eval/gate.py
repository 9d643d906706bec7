"""The CI quality gate: the fast subsets, one fresh store, thresholds = measured baseline − margin.

Thresholds live in eval/gate.json (data): {"<bench>": {"<configuration>": {"<metric>": minimum}}}.
Lower-is-better metrics (``false_refusal_rate``) are maxima instead.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from eval.configs import Config
from eval.datasets import load_bench
from eval.runner import Runner, RunResult
from veille.config import Settings

GATE_FILE = Path(__file__).resolve().parent / "gate.json"
GATE_CONFIGS = [Config("hybrid", "e5-small", "wsum"), Config("bm25", "e5-small")]
LOWER_IS_BETTER = {"false_refusal_rate"}


def run_fast(settings: Settings, progress: bool = False) -> RunResult:
    with Runner(settings, progress=progress) as runner:
        runner.run_corpus(GATE_CONFIGS)
        for name in ("piaf", "spf"):
            runner.run_bench(load_bench(name, fast=True), GATE_CONFIGS, peer=False)
    return runner.result


def failures(summary: dict, thresholds: dict) -> list[str]:
    out = []
    for bench, configs in thresholds.items():
        for config, metrics in configs.items():
            measured = summary.get(bench, {}).get(config, {})
            for metric, limit in metrics.items():
                value = measured.get(metric)
                if value is None:
                    out.append(f"{bench}/{config}/{metric} : absent")
                elif metric in LOWER_IS_BETTER and value > limit:
                    out.append(f"{bench}/{config}/{metric} = {value:.3f} > {limit:.3f}")
                elif metric not in LOWER_IS_BETTER and value < limit:
                    out.append(f"{bench}/{config}/{metric} = {value:.3f} < {limit:.3f}")
    return out


GATED = ("hit@1", "hit@10", "mrr@10", "ndcg@10")
GATED_ANSWERS = ("coverage", "citation_precision", "refusal_recall", "false_refusal_rate", "follow_up_success")


def thresholds_from(summary: dict, margin: float = 0.03, answer_margin: float = 0.05) -> dict:
    """Baseline minus a margin (plus, for lower-is-better metrics), rounded down to 3 decimals."""
    out: dict = {}
    for bench, configs in summary.items():
        for config, m in configs.items():
            if config not in {c.name for c in GATE_CONFIGS}:
                continue
            limits = {k: round(max(0.0, m[k] - margin), 3) for k in GATED if k in m}
            for k in GATED_ANSWERS if bench == "corpus" else ():
                if k in m:
                    limits[k] = round(min(1.0, m[k] + answer_margin) if k in LOWER_IS_BETTER
                                      else max(0.0, m[k] - answer_margin), 3)
            out.setdefault(bench, {})[config] = limits
    return out


def main() -> None:
    """python -m eval.gate SUMMARY.json : write gate.json from a measured fast run (veille eval --fast --json)."""
    summary = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    GATE_FILE.write_text(json.dumps({"command": "veille eval --fast --bench corpus,piaf,spf --retriever hybrid,bm25 "
                                                "--no-peer --json", "baseline": summary,
                                     "thresholds": thresholds_from(summary)}, ensure_ascii=False, indent=1) + "\n",
                         encoding="utf-8")
    print(f"Seuils écrits dans {GATE_FILE}")


if __name__ == "__main__":
    main()
