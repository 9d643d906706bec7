"""The CI quality gate: the fast subsets, one fresh store, thresholds = measured baseline − margin.

Thresholds live in eval/gate.json (data): {"<bench>": {"<configuration>": {"<metric>": minimum}}}.
Lower-is-better metrics (``false_refusal_rate``) are maxima instead.
"""
from __future__ import annotations

import json
from pathlib import Path

from eval.configs import Config
from eval.datasets import load_bench
from eval.runner import RunResult, Runner
from veille.config import Settings

GATE_FILE = Path(__file__).resolve().parent / "gate.json"
GATE_CONFIGS = [Config("hybrid", "e5-small", "rrf"), Config("bm25", "e5-small")]
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
