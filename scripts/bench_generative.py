"""Generative mode against the loopback OpenAI server: time to first token, total time and what the
citation verification did, per scenario. Usage: .venv/bin/python scripts/bench_generative.py [--home DIR]"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

QUESTIONS = ["Quels sont les pôles de compétitivité normands ?",
             "Qui a co-présidé le comité stratégique d'intelligence économique territoriale ?",
             "Quelles régions se sont portées candidates pour expérimenter le dispositif ?"]


def main() -> None:
    from openai_server import FakeOpenAIServer
    from rich.console import Console
    from rich.table import Table

    from assistant.service import Assistant
    from assistant.generation.verify import split_cited_sentences
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "veille_bench_gen")
    args = parser.parse_args()
    base = Settings(home=args.home, models_path=REPO / ".veille" / "models")
    Ingestor(base, progress=False).ingest_paths([REPO / "corpus"])
    table = Table(title="Mode génératif sur le serveur OpenAI local (3 questions, flux SSE)")
    for col in ("scénario", "mode obtenu", "1er jeton du modèle", "1er fragment (recherche comprise)", "total (médiane)", "phrases gardées/générées",
                "citations inventées retirées", "refus", "repli extractif"):
        table.add_column(col)
    with FakeOpenAIServer(slow_seconds=2.5) as server:
        warm = Assistant(base)
        warm.warm_up()
        for scenario in ("normal", "invent", "unsupported", "inject", "slow", "error500", "truncated", "garbage"):
            assistant = Assistant(base.with_(llm_base_url=server.url, llm_model=scenario, llm_timeout=1.0,
                                             llm_retries=0), embedder=warm.embedder)
            model_ttft, ttft, total, kept, generated, invented, refused, fallback, modes = [], [], [], 0, 0, 0, 0, 0, set()
            for q in QUESTIONS:
                t0 = time.perf_counter()
                stream = assistant.ask_stream(q)
                t_first = None
                for _ in stream:
                    t_first = t_first or time.perf_counter() - t0
                total.append(time.perf_counter() - t0)
                ttft.append(t_first or float("nan"))
                a = stream.answer
                modes.add(a.mode)
                stats = assistant.generator.llm.last_stats
                model_ttft.append(stats.first_token_s if stats.first_token_s is not None else float("nan"))
                generative = a.mode != "extractif"
                n_kept = len(split_cited_sentences(a.answer)) if generative and not a.refused else 0
                generated += (n_kept if a.mode != "extractif" else 0) + len(a.flagged)
                kept += n_kept if a.mode != "extractif" else 0
                invented += sum("inexistant" in r for f in a.flagged for r in f["raisons"].values())
                refused += a.refused
                fallback += a.mode == "extractif"
            table.add_row(scenario, ", ".join(sorted(modes)), f"{statistics.median(model_ttft) * 1000:.1f} ms",
                          f"{statistics.median(ttft) * 1000:.0f} ms",
                          f"{statistics.median(total) * 1000:.0f} ms", f"{kept}/{generated}", str(invented),
                          str(refused), str(fallback))
    Console(width=170).print(table)
    print("1er jeton du modèle : de l'envoi de la requête au premier fragment SSE (médiane, 3 questions) ; "
          "« nan » : aucun jeton reçu (repli extractif).")


if __name__ == "__main__":
    main()
