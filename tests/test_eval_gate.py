"""Quality gate: the fast evaluation subsets (corpus set, PIAF and SPF extracts) on a fresh store must
stay above the recorded baseline minus a small margin (eval/gate.json, figures in eval/README.md)."""
from __future__ import annotations

import json

from eval.gate import GATE_FILE, failures, run_fast


def test_quality_gate(tmp_path, models_dir):
    from veille.config import Settings

    result = run_fast(Settings(home=tmp_path / "home", models_path=models_dir))
    (tmp_path / "summary.json").write_text(json.dumps(result.summary, indent=1))
    thresholds = json.loads(GATE_FILE.read_text(encoding="utf-8"))["thresholds"]
    problems = failures(result.summary, thresholds)
    assert not problems, "Régression sous le seuil de la porte de qualité :\n" + "\n".join(problems)
