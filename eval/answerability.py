"""Answerability at scale: does Veille answer when its corpus holds the answer, and refuse when it does not?

    python -m eval.answerability [--sets piaf,spf,cnil,demo,demo-echelle] [--scorer rules,learned,consensus]
                                 [--limit N] [--json] [--out DOSSIER] [--no-report]

Sets (see eval/gold_removal.py for how the stores are built):
- ``piaf`` (the 921 evaluation questions of qa.jsonl + qa_eco.jsonl), ``spf`` (500), ``cnil`` (159): gold
  removal. Half A keeps its gold (must be answered citing it), half B loses it (must be refused).
- ``demo``: eval/corpus_set.jsonl over corpus/ alone; ``demo-echelle``: the same questions with corpus/ among
  the passages of the three benchmarks and the html_fr pages. A test set: nothing is fitted on it.

Every question is asked once per answerability mode (``Settings.answerability``: ``rules``, the earlier
design; ``learned``, the models trained on PIAF train; ``consensus``, both must agree) through the public ``Assistant`` (extractive path,
no language model) with the refusal threshold set to 0, so the answer it *would* give is always known; the
mode's own threshold then decides (refused = refused before any model, or confidence below the threshold).
The query embedding is computed once per question and shared by the modes; its cost is added back to each
mode's latency.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answerability import load_models
from assistant.answerability.consensus import both_answer
from assistant.answerability.judge import JUDGE_PATH, judge_agrees
from assistant.conversation.session import Conversation
from assistant.answerability.policy import load_model
from assistant.answering.reading import gate_thresholds
from assistant.service import Assistant
from eval.corpus_set import load_corpus_set
from eval.datasets import SHARED_BENCH, Bench, Question, load_bench, read_jsonl
from eval.gold_removal import removal_store, scale_store, split_by_gold
from eval.metrics import check_citations, coverage, fold, percentile
from eval.report import REPORTS_DIR
from eval.stores import CachedEmbedder, bench_store, corpus_store
from veille.config import get_settings
from veille.embeddings import get_embedder
from veille.judge import read_meta
from veille.progress import make_progress

SETS = ("piaf", "spf", "cnil", "demo", "demo-echelle")
SCORERS = ("rules", "learned", "consensus", "judge", "judge-consensus", "reader")
LABELS = {"rules": "règles (modèle ajusté sur le jeu du corpus)", "learned": "appris (PIAF train)",
          "consensus": "consensus (règles et appris d'accord)", "judge": "juge (cross-encodeur, PIAF train)",
          "judge-consensus": "juge, règles et appris d'accord", "reader": "lecteur (entraîné sur PIAF train)"}
HIGH_CONFIDENCE = 0.8


@dataclass
class Case:
    set: str
    id: str
    question: str
    present: bool  # the corpus holds the answer (gold kept / answerable demo question)
    gold: frozenset[str]  # keys (benchmark passage ids, corpus file names) whose citation is right
    answer: str = ""  # the reference answer text (PIAF, part of SPF): the answering sentence holds it
    expected: list[str] = field(default_factory=list)  # demo set: elements the answer must contain
    chain: str | None = None
    turn: int = 1


def piaf_eval_bench() -> Bench:
    """PIAF with its 921 evaluation questions: qa.jsonl and qa_eco.jsonl (32 questions are in both)."""
    bench = load_bench("piaf", full=True)
    eco = SHARED_BENCH / "piaf" / "qa_eco.jsonl"
    known = {q.id for q in bench.questions}
    if eco.exists():
        for r in read_jsonl(eco):
            if r["id"] not in known:
                known.add(r["id"])
                bench.questions.append(Question(r["id"], r["question"], r.get("answer", ""), list(r["gold_ids"])))
    return bench


def gold_removal_cases(bench: Bench, split) -> list[Case]:
    """Half A then half B, interleaved in a fixed order so that ``--limit`` keeps both halves."""
    # CNIL's reference is the whole FAQ answer, not a span: no answering sentence to check.
    def ref(q: Question) -> str:
        return "" if bench.name == "cnil" else q.answer

    a = [Case(bench.name, q.id, q.question, True, frozenset(bench.gold_passages(q)), ref(q)) for q in split.present]
    b = [Case(bench.name, q.id, q.question, False, frozenset(bench.gold_passages(q)), ref(q)) for q in split.absent]
    out: list[Case] = []
    for i in range(max(len(a), len(b))):
        out.extend(x[i] for x in (a, b) if i < len(x))
    return out


def demo_cases(name: str) -> list[Case]:
    return [Case(name, item.id, item.question, not item.unanswerable, frozenset(item.gold_docs),
                 expected=item.expected, chain=item.chain, turn=item.turn) for item in load_corpus_set()]


def _limit(cases: list[Case], limit: int | None) -> list[Case]:
    """The first ``limit`` cases, with whole follow-up chains (a turn needs the turns before it)."""
    if not limit or len(cases) <= limit:
        return cases
    kept = cases[:limit]
    chains = {c.chain for c in kept if c.chain}
    return kept + [c for c in cases[limit:] if c.chain in chains]


class SharedQueries:
    """An embedder that computes each query vector once and remembers what it cost, so two scorers asked
    the same question pay (and report) the same embedding."""

    def __init__(self, inner):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self._cache: dict[str, tuple[object, float]] = {}
        self.last_cost_ms = 0.0
        self.last_hit = False

    def embed_queries(self, texts):
        out = []
        self.last_hit, self.last_cost_ms = True, 0.0
        for text in texts:
            if text not in self._cache:
                t0 = time.perf_counter()
                vec = self.inner.embed_queries([text])[0]
                self._cache[text] = (vec, (time.perf_counter() - t0) * 1000)
                self.last_hit = False
            vec, cost = self._cache[text]
            self.last_cost_ms += cost
            out.append(vec)
        return np.stack(out)

    def embed_passages(self, texts, batch_size=None, progress=None):
        return self.inner.embed_passages(texts, batch_size, progress)

    @property
    def vectors(self) -> dict:
        """Query text -> vector, for every query embedded so far."""
        return {text: vec for text, (vec, _) in self._cache.items()}


def scorer_threshold(name: str) -> float:
    """The threshold a mode refuses under, as stored with its model (consensus: each judge's own, see
    ``refused``; the stricter is reported)."""
    if name == "reader":
        return gate_thresholds(get_settings().with_(refusal_threshold=None)).alone
    judge = float(read_meta(JUDGE_PATH)["threshold"])
    return {"rules": load_model().threshold, "learned": load_models().threshold,
            "consensus": max(load_model().threshold, load_models().threshold), "judge": judge,
            "judge-consensus": judge}[name]


def refused(row: dict, threshold: float) -> bool:
    """Would the mode refuse, at its own threshold(s)? (Asked with the threshold at 0, every answer is known.)"""
    if row["forced"]:
        return True
    if row.get("gated"):  # the reader's gate decided at its own thresholds (``reading.gate``)
        return False
    if row["scorer"] == "consensus":  # each judge at its own threshold, as ConsensusPolicy decides
        evidence = row["evidence"]
        return not both_answer(evidence["rules_confidence"], evidence.get("learned_confidence"),
                               load_model().threshold, load_models().threshold)
    if row["scorer"].startswith("judge"):  # each judge at its own threshold, as JudgePolicy decides
        return not judge_agrees(row["evidence"]["judge_confidence"], threshold, row["evidence"],
                                load_model().threshold, load_models().threshold)
    return row["confidence"] < threshold


def ask_cases(cases: list[Case], store, embedder, scorers: list[str], progress=None,
              gated_reader: bool = True) -> list[dict]:
    """Every case through ``Assistant.ask`` (``Conversation.ask`` for follow-ups), once per mode; asked at
    threshold 0 to see every would-be answer, except the reader's gate (``gated_reader``), which decides
    between two sources and is asked as users get it."""
    shared = SharedQueries(embedder)
    settings = store.settings.with_(refusal_threshold=0.0)

    def gated(name: str) -> bool:
        return gated_reader and name == "reader"

    assistants = {name: Assistant(settings.with_(answerability=name, refusal_threshold=None if gated(name) else 0.0),
                                  embedder=shared) for name in scorers}
    by_doc = store.passages_of_doc
    conversations: dict[tuple[str, str], Conversation] = {}
    rows = []
    for case in cases:
        for name, assistant in assistants.items():
            t0 = time.perf_counter()
            if case.chain:
                answer = conversations.setdefault((name, case.chain), Conversation()).ask(assistant, case.question)
            else:
                answer = assistant.ask(case.question)
            total = (time.perf_counter() - t0) * 1000 + (shared.last_cost_ms if shared.last_hit else 0.0)
            cited = [k for c in answer.citations for k in by_doc.get(c.doc_id, [])]
            check = check_citations(answer.answer, {c.n: c.quote for c in answer.citations})
            first = answer.citations[0].sentence if answer.citations else ""
            rows.append({
                "set": case.set, "scorer": name, "id": case.id, "question": case.question, "present": case.present,
                "forced": answer.refused, "confidence": round(float(answer.confidence), 4),
                "answer": "" if answer.refused else answer.answer, "cited": cited,
                "gold_cited": bool(set(cited) & case.gold), "first_cited_gold": bool(cited and cited[0] in case.gold),
                "cited_sentences": check.sentences, "supported_sentences": check.supported,
                "first_sentence_has_answer": _holds_answer(first, case.answer),
                "reference": case.answer, "coverage": coverage(case.expected, answer.answer) if case.expected else None,
                "chain": case.chain, "latency_ms": round(total, 2), "evidence": answer.evidence,
                "gated": gated(name)})
        if progress:
            progress()
    return rows


def _holds_answer(sentence: str, reference: str) -> bool:
    """The sentence holds the reference answer (PIAF spans), or is part of it (SPF spans run over
    several sentences)."""
    if not sentence or not reference:
        return False
    s, r = fold(sentence), fold(reference)
    return r in s or (len(s) >= 20 and s in r)


def _correct(row: dict) -> bool:
    """The answer the scorer would give is right: it cites the gold (and, on the demo set, holds half of
    the expected elements)."""
    if not row["present"] or row["forced"]:
        return False
    return row["gold_cited"] and (row["coverage"] is None or row["coverage"] >= 0.5)


def auc(labels: list[bool], scores: list[float]) -> float | None:
    if len(set(labels)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, scores)), 4)


def metrics(rows: list[dict], threshold: float) -> dict:
    """Refusal, answers and calibration of one scorer on one set, at its threshold."""
    def refused_here(r: dict) -> bool:
        return refused(r, threshold)

    present = [r for r in rows if r["present"]]
    absent = [r for r in rows if not r["present"]]
    answered = [r for r in rows if not refused_here(r)]
    refusals = [r for r in rows if refused_here(r)]
    cited = sum(r["cited_sentences"] for r in answered)
    supported = sum(r["supported_sentences"] for r in answered)
    answered_present = [r for r in answered if r["present"]]
    high = [r for r in answered if r["confidence"] >= HIGH_CONFIDENCE]
    with_ref = [r for r in answered_present if r["reference"]]
    latencies = [r["latency_ms"] for r in rows]
    out = {
        "questions": len(rows), "present": len(present), "absent": len(absent), "threshold": round(threshold, 4),
        "answered_and_cited": _rate(sum(not refused_here(r) and r["gold_cited"] for r in present), len(present)),
        "answered_when_present": _rate(sum(not refused_here(r) for r in present), len(present)),
        "refused_when_absent": _rate(sum(refused_here(r) for r in absent), len(absent)),
        "refusal_precision": _rate(sum(not r["present"] for r in refusals), len(refusals)),
        "citation_precision": _rate(supported, cited),
        "first_citation_gold": _rate(sum(r["first_cited_gold"] for r in answered_present), len(answered_present)),
        "first_sentence_answers": _rate(sum(r["first_sentence_has_answer"] for r in with_ref), len(with_ref)),
        "auc_present": auc([r["present"] for r in rows], [r["confidence"] for r in rows]),
        "auc_correct": auc([_correct(r) for r in rows], [r["confidence"] for r in rows]),
        "high_confidence_answers": len(high),
        "high_confidence_correct": _rate(sum(_correct(r) for r in high), len(high)),
        "latency_p50_ms": round(percentile(latencies, 50), 1), "latency_p95_ms": round(percentile(latencies, 95), 1),
    }
    if any(r["coverage"] is not None for r in present):
        out["coverage"] = _rate(sum((r["coverage"] or 0.0) for r in present if not refused_here(r)), len(present))
    return out


def _rate(num: float, den: int) -> float | None:
    return round(num / den, 4) if den else None


# --- report -------------------------------------------------------------------------------------

COLUMNS = (("answered_and_cited", "répondu et cité (présent)"), ("refused_when_absent", "refusé (absent)"),
           ("refusal_precision", "préc. refus"), ("answered_when_present", "répondu (présent)"),
           ("citation_precision", "préc. citations"), ("first_citation_gold", "1re citation = référence"),
           ("first_sentence_answers", "1re phrase = réponse"), ("auc_present", "AUC présent/absent"),
           ("auc_correct", "AUC juste"), ("high_confidence_correct", "justes si conf. ≥ 0,8"),
           ("latency_p50_ms", "latence p50 (ms)"), ("latency_p95_ms", "p95"))
TARGETS = {"piaf": (0.90, 0.80), "spf": (0.90, 0.85), "cnil": (0.90, 0.85), "demo-echelle": (0.92, 0.90)}


_YES_NO = re.compile(r"^(?:est-ce qu|peut-on|puis-je|dois-je|faut-il|ai-je|suis-je|y a-t-il|a-t-on|"
                     r"[\w'’ ]+-(?:t-)?(?:il|elle|ils|elles|on)\b)", re.I)
_ASKS = re.compile(r"^(?:qui|que|qu'|quoi|quand|où|combien|comment|pourquoi|quel|quelle|lequel|laquelle|à qui|"
                   r"dans quel|en quel|de quel|depuis quand|jusqu)", re.I)
KINDS = ("factuelle", "procédure", "oui/non", "liste")


def question_kind(question: str) -> str:
    """Factoid, procedural, yes/no or list: the forms the benchmarks ask in (PIAF factoid, SPF and CNIL
    procedural and yes/no). By the question's first words only."""
    q = " ".join((question or "").strip().split())
    if re.match(r"^(?:comment|que (?:faire|dois-je faire)|quelles? (?:sont les )?(?:démarches|étapes|formalités|"
                r"conditions|pièces|documents)|à qui (?:s'adresser|dois-je)|où (?:s'adresser|faire))", q, re.I):
        return "procédure"
    if re.match(r"^(?:quels|quelles) (?:sont|étaient|seront)\b|^(?:quels|quelles)\s+\w+s\b", q, re.I):
        return "liste"
    if not _ASKS.match(q) and (_YES_NO.match(q) or "-t-" in q or re.search(r"-(?:il|elle|ils|elles|on)\b", q)):
        return "oui/non"
    return "factuelle"


def kinds_table(rows: list[dict], thresholds: dict[str, float]) -> str:
    """Answered and cited when present, refused when absent, per question kind (every set pooled by set)."""
    lines = ["| jeu | évaluateur | genre | présent : répondu et cité | absent : refusé |", "|---|---|---|---|---|"]
    for set_name in dict.fromkeys(r["set"] for r in rows):
        for scorer, threshold in thresholds.items():
            sub = [r for r in rows if r["set"] == set_name and r["scorer"] == scorer]
            for kind in KINDS:
                mine = [r for r in sub if question_kind(r["question"]) == kind]
                if not mine:
                    continue
                present = [r for r in mine if r["present"]]
                absent = [r for r in mine if not r["present"]]
                cited = _rate(sum(not refused(r, threshold) and r["gold_cited"] for r in present), len(present))
                refusals = _rate(sum(refused(r, threshold) for r in absent), len(absent))
                lines.append(f"| {set_name} | {scorer} | {kind} | {_fmt(cited)} ({len(present)}) | "
                             f"{_fmt(refusals)} ({len(absent)}) |")
    return "\n".join(lines)


def markdown_table(summary: dict) -> str:
    head = "| jeu | évaluateur | questions (présent / absent) | " + " | ".join(label for _, label in COLUMNS) + " |"
    lines = [head, "|---|---|---|" + "---|" * len(COLUMNS)]
    for set_name, by_scorer in summary.items():
        for scorer, m in by_scorer.items():
            cells = [_fmt(m.get(key)) for key, _ in COLUMNS]
            lines.append(f"| {set_name} | {scorer} | {m['questions']} ({m['present']} / {m['absent']}) | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) and v <= 1.0 else str(v)


def targets_lines(summary: dict) -> list[str]:
    """The issue's targets, met or not (the demo set's target is on its answerable questions)."""
    lines = []
    for set_name, (answered, refused) in TARGETS.items():
        for scorer, m in summary.get(set_name, {}).items():
            key = "answered_when_present" if set_name.startswith("demo") else "answered_and_cited"
            a, r = m.get(key), m.get("refused_when_absent")
            ok = a is not None and r is not None and a >= answered and r >= refused
            lines.append(f"- {set_name} · {scorer} : {'répondu' if set_name.startswith('demo') else 'répondu et cité'} "
                         f"{_fmt(a)} (cible ≥ {answered:.2f}), refusé si absent {_fmt(r)} (cible ≥ {refused:.2f}) : "
                         f"{'atteint' if ok else 'non atteint'}")
    for set_name, by_scorer in summary.items():
        for scorer, m in by_scorer.items():
            if m.get("high_confidence_answers"):
                lines.append(f"- calibration {set_name} · {scorer} : {m['high_confidence_answers']} réponses de "
                             f"confiance ≥ 0,8, justes à {_fmt(m['high_confidence_correct'])} (cible ≥ 0,95)")
    return lines


def reliability_plot(rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(dict.fromkeys(r["set"] for r in rows))
    scorers = list(dict.fromkeys(r["scorer"] for r in rows))
    fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 4.2), squeeze=False)
    for ax, set_name in zip(axes[0], sets):
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
        for scorer in scorers:
            sub = [r for r in rows if r["set"] == set_name and r["scorer"] == scorer]
            xs, ys, ns = [], [], []
            for b in range(10):
                lo, hi = b / 10, (b + 1) / 10
                binned = [r for r in sub if lo <= r["confidence"] < hi or (b == 9 and r["confidence"] == 1.0)]
                if binned:
                    xs.append(sum(r["confidence"] for r in binned) / len(binned))
                    ys.append(sum(_correct(r) for r in binned) / len(binned))
                    ns.append(len(binned))
            ax.plot(xs, ys, marker="o", label=LABELS.get(scorer, scorer))
            for x, y, n in zip(xs, ys, ns):
                ax.annotate(str(n), (x, y), fontsize=6, textcoords="offset points", xytext=(2, 3))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(set_name)
        ax.set_xlabel("confiance (Answer.confidence)")
        ax.set_ylabel("part des réponses justes")
        ax.legend(fontsize=6, loc="upper left")
    fig.suptitle("Fiabilité de la confiance (nombre de questions par tranche)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def absent_answered_sample(rows: list[dict], threshold: dict[str, float], n: int = 30, seed: int = 42,
                           scorer: str | None = None) -> list[dict]:
    """Cases whose gold was removed (SPF, CNIL) and that the default answer mode (``Settings.answerability``)
    answered anyway, decided as ``refused`` decides, to read by hand: does another entry really answer?"""
    scorer = scorer or get_settings().answerability
    pool = [r for r in rows if r["set"] in ("spf", "cnil") and not r["present"] and r["scorer"] == scorer
            and not refused(r, threshold[r["scorer"]])]
    random.Random(seed).shuffle(pool)
    return [{k: r[k] for k in ("set", "id", "question", "reference", "answer", "cited", "confidence")}
            for r in pool[:n]]


# --- run ----------------------------------------------------------------------------------------

def build_cases(set_name: str, base, embedder, progress: bool):
    """(cases, store) for one set, the stores built or read from the cache."""
    if set_name == "demo":
        return demo_cases("demo"), corpus_store(base, "e5-small", embedder, progress)
    if set_name == "demo-echelle":
        benches = [load_bench(name, full=True) for name in ("spf", "piaf", "cnil")]
        return demo_cases("demo-echelle"), scale_store(benches, base, embedder, progress=progress)
    bench = piaf_eval_bench() if set_name == "piaf" else load_bench(set_name, full=True)
    split = split_by_gold(bench)
    full = bench_store(bench, base, "e5-small", embedder, progress)
    return gold_removal_cases(bench, split), removal_store(full, bench, split, base)


def run(sets: list[str], scorers: list[str], limit: int | None = None, progress: bool = True) -> tuple[dict, list[dict], dict]:
    base = get_settings()
    embedder = CachedEmbedder.of(get_embedder(base, "e5-small"), base)
    thresholds = {name: scorer_threshold(name) for name in scorers}
    summary: dict[str, dict[str, dict]] = {}
    rows: list[dict] = []
    info: dict[str, dict] = {}
    with make_progress("questions", progress) as bar:
        for set_name in sets:
            try:
                cases, store = build_cases(set_name, base, embedder, progress)
            except FileNotFoundError as exc:
                print(f"{exc} Jeu « {set_name} » ignoré.", file=sys.stderr)
                continue
            finally:
                embedder.save()
            cases = _limit(cases, limit)
            info[set_name] = {"passages": store.chunks, "store": store.settings.home.name}
            task = bar.add_task(f"{set_name} ({store.chunks} passages)", total=len(cases))
            set_rows = ask_cases(cases, store, embedder, scorers, lambda: bar.advance(task))
            rows += set_rows
            summary[set_name] = {name: {**metrics([r for r in set_rows if r["scorer"] == name], thresholds[name]),
                                        "passages": store.chunks} for name in scorers}
    return summary, rows, {"thresholds": thresholds, "stores": info}


def write_report(summary: dict, rows: list[dict], meta: dict, root: Path) -> Path:
    folder = root / (dt.datetime.now().strftime("%Y-%m-%d_%H%M%S") + "_answerability")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps({"meta": meta, "summary": summary}, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    (folder / "questions.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    sample = absent_answered_sample(rows, meta["thresholds"])
    (folder / "absent_answered_sample.json").write_text(json.dumps(sample, ensure_ascii=False, indent=1),
                                                        encoding="utf-8")
    if rows:
        reliability_plot(rows, folder / "reliability.png")
    lines = [f"# Réponse ou refus à l'échelle — {meta['date']}", "", f"Commande : `{meta['command']}`", "",
             f"Durée : {meta['seconds']:.0f} s · seuils : "
             + ", ".join(f"{k} {v:.3f}" for k, v in meta["thresholds"].items()), "",
             "Passages par stockage : " + ", ".join(f"{k} {v['passages']}" for k, v in meta["stores"].items()), "",
             markdown_table(summary), "", "## Cibles du ticket 12", "", *targets_lines(summary), "",
             "Fiabilité : `reliability.png` (part des réponses justes par tranche de confiance). Cas absents "
             f"répondus par le mode par défaut ({get_settings().answerability}) à relire : "
             "`absent_answered_sample.json`.", ""]
    (folder / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.answerability",
                                     description="Mesurer la réponse et le refus à l'échelle (retrait des références, "
                                                 "corpus de démonstration parmi des milliers de passages).")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args, "python -m eval.answerability " + " ".join(argv if argv is not None else sys.argv[1:]))


def add_arguments(parser) -> None:
    parser.add_argument("--sets", default=",".join(SETS), help=f"jeux, séparés par des virgules (défaut : {','.join(SETS)})")
    parser.add_argument("--scorer", default=",".join(SCORERS),
                        help=f"modes de réponse, côte à côte (défaut : tous, {','.join(SCORERS)})")
    parser.add_argument("--limit", type=int, help="au plus N questions par jeu (essais)")
    parser.add_argument("--json", action="store_true", help="imprimer le résumé en JSON sur la sortie standard")
    parser.add_argument("--out", help="dossier des rapports (défaut : eval/reports)")
    parser.add_argument("--no-report", action="store_true", help="ne pas écrire de dossier de rapport")
    parser.add_argument("--no-progress", action="store_true", help="sans barre de progression")


def run_from_args(args, command: str) -> int:
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    scorers = [s.strip() for s in args.scorer.split(",") if s.strip()]
    bad = [s for s in sets if s not in SETS] + [s for s in scorers if s not in SCORERS]
    if bad:
        print(f"Inconnu : {', '.join(bad)} (jeux : {', '.join(SETS)} ; évaluateurs : {', '.join(SCORERS)}).",
              file=sys.stderr)
        return 2
    started = time.perf_counter()
    summary, rows, extra = run(sets, scorers, args.limit, not args.no_progress)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "command": command, "limit": args.limit,
            "seconds": round(time.perf_counter() - started, 1), **extra}
    if not args.no_report:
        folder = write_report(summary, rows, meta, Path(args.out) if args.out else REPORTS_DIR)
        print(f"Rapport : {folder / 'report.md'}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(markdown_table(summary))
        print()
        print(kinds_table(rows, extra["thresholds"]))
        print("\n".join(targets_lines(summary)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
