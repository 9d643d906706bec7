"""The CNIL FAQ as a user meets it: one Markdown file per entry, `veille ingest` on the folder, then the 159
paraphrased questions (typos included) through `veille ask --json --local`, exactly as typed in a shell.

    .venv/bin/python scripts/bench_cnil_cli.py [--home /tmp/veille-cnil-cli] [--limit N]

Prints: answered, answer citing the right entry (any citation / the first one), refused — each over all the
questions (every question's entry is in the store). Retrieval hit@1 on the same set: `veille eval`.
Needs ../shared/bench/cnil; the store lives under ``--home`` (rebuilt when missing), never in the repository.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CNIL = REPO.parent / "shared" / "bench" / "cnil"
VEILLE = REPO / ".venv" / "bin" / "veille"


def write_entries(folder: Path) -> int:
    """One Markdown file per FAQ entry (its title as heading, its passages in order)."""
    entries: dict[str, tuple[str, list[str]]] = {}
    with (CNIL / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            p = json.loads(line)
            entries.setdefault(p["doc_id"], (p["title"], []))[1].append(p["text"])
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, (title, texts) in entries.items():
        (folder / f"{doc_id}.md").write_text(f"# {title}\n\n" + "\n\n".join(texts) + "\n", encoding="utf-8")
    return len(entries)


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description="FAQ CNIL par la ligne de commande (un fichier Markdown par "
                                                 "entrée).")
    parser.add_argument("--home", type=Path, default=Path("/tmp/veille-cnil-cli"))
    parser.add_argument("--limit", type=int, default=0, help="au plus N questions (essais)")
    args = parser.parse_args()
    if not (CNIL / "qa.jsonl").exists():
        print(f"Banc CNIL absent ({CNIL}).", file=sys.stderr)
        return 2
    from veille.config import get_settings

    # The bench's own embedded store, whatever the user's configuration points at (a Chroma server, a config
    # file), and the configured models (not a copy under --home).
    env = {k: v for k, v in os.environ.items() if k not in ("VEILLE_CHROMA_URL", "VEILLE_CONFIG")}
    env.update(VEILLE_HOME=str(args.home / "veille"), VEILLE_MODELS_PATH=str(get_settings().models_dir))
    folder, marker = args.home / "faq", args.home / "veille" / "bench_cnil_cli.json"
    if not marker.exists():
        if args.home.exists() and any(p.name not in ("faq", "veille") for p in args.home.iterdir()):
            print(f"{args.home} contient autre chose que ce banc : choisissez un autre --home.", file=sys.stderr)
            return 2
        for part in (folder, args.home / "veille"):
            shutil.rmtree(part, ignore_errors=True)
        entries = write_entries(folder)
        t0 = time.perf_counter()
        subprocess.run([str(VEILLE), "ingest", str(folder)], env=env, check=True)
        marker.write_text(json.dumps({"entries": entries}), encoding="utf-8")  # written only once complete
        print(f"{entries} entrées ingérées en {time.perf_counter() - t0:.0f} s.", file=sys.stderr)
    with (CNIL / "qa.jsonl").open(encoding="utf-8") as fh:
        cases = [json.loads(line) for line in fh if line.strip()]
    cases = cases[:args.limit] if args.limit else cases
    questions = "".join(c["question"].replace("\n", " ") + "\n" for c in cases)
    t0 = time.perf_counter()
    out = subprocess.run([str(VEILLE), "ask", "--json", "--local"], env=env, input=questions, text=True,
                         capture_output=True, check=True).stdout
    seconds = time.perf_counter() - t0
    answers = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(answers) == len(cases), (len(answers), len(cases))

    answered = cited = first = refused = found = 0
    for case, answer in zip(cases, answers):
        gold = {f"{d}.md" for d in case["gold_doc_ids"]}
        files = [Path(c["source"]).name for c in answer.get("citations") or []]
        refused += bool(answer["refused"])
        if not answer["refused"]:
            answered += 1
            cited += bool(gold & set(files))
            first += bool(files and files[0] in gold)
            found += bool(gold & set(files))
        elif answer.get("status") == "partial":  # the right entry first under « Ce qui s'en approche »
            found += bool(files and files[0] in gold)
    n = len(cases)
    table = Table(title=f"FAQ CNIL par « veille ask --json --local » : {n} questions ({seconds:.0f} s)")
    for column in ("répondu", "cite la bonne entrée", "1re citation = bonne entrée", "refusé",
                   "bonne entrée citée ou 1re de « Ce qui s'en approche »"):
        table.add_column(column, justify="right")
    table.add_row(f"{answered / n:.3f}", f"{cited / n:.3f}", f"{first / n:.3f}", f"{refused / n:.3f}",
                  f"{found / n:.3f}")
    Console().print(table)
    print(json.dumps({"questions": n, "answered": round(answered / n, 4), "cites_right_entry": round(cited / n, 4),
                      "first_citation_right_entry": round(first / n, 4), "refused": round(refused / n, 4),
                      "right_entry_or_first_closest": round(found / n, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
