"""Benchmark: hostile files through `veille ingest`, and what the fence around extraction costs on normal files.

    .venv/bin/python scripts/bench_hostile.py [--only docx-bombe,csv-ligne] [--small] [--skip-cost]

Part 1 — each hostile file (tests/hostile_files.py, at the sizes of the issue unless --small) is dropped in a
folder beside a normal Markdown note, and `veille ingest --json` runs on that folder in a fresh home, as a user
types it. Printed per file: its size on disk, the peak memory of the whole process tree (every process's
resident memory summed, sampled every 0.1 s), the wall time, the outcome and the reason shown, and whether the
normal note landed.

Part 2 — the fence's cost: every file of SPF 400 (../shared), the demo corpus and one real file of each format
(bench/samples.py, OCR included) extracted in this process (`ingestion.extract.extract`, the peer)
and through the fence (`ingestion.fence.extract_fenced`: a pipe to the capped worker), alternated, same run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import hostile_files as h  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

console = Console()
MB = 1 << 20


def cases(small: bool) -> dict[str, callable]:
    """Name → function writing the file into a folder; sizes of the issue (``small``: of the tests)."""
    k = 8 if small else 1
    return {
        "docx-bombe": lambda d: h.docx_bomb(d / "bombe.docx", (2048 // k) * MB),
        "epub-bombe": lambda d: h.epub_bomb(d / "bombe.epub", (2048 // k) * MB),
        "pdf-page-geante": lambda d: h.pdf_giant_page(d / "page-geante.pdf"),
        "docx-texte-200-Mo": lambda d: h.docx_text(d / "texte.docx", 2_500_000 // k),
        "docx-texte-30-Mo": lambda d: h.docx_text(d / "texte-moyen.docx", 300_000 // k),
        "docx-entite": lambda d: h.docx_entity(d / "entite.docx"),
        "csv-une-ligne": lambda d: h.csv_one_line(d / "une-ligne.csv", 2_200_000 // k),
        "xlsx-million-lignes": lambda d: h.xlsx_rows(d / "lignes.xlsx", 1_000_000 // k),
        "xlsx-milliard-cellules": lambda d: h.xlsx_billion_cells(d / "milliard.xlsx"),
        "pptx-100000-diapositives": lambda d: h.pptx_slides(d / "diapositives.pptx", 100_000 // k),
        "mbox-10000-parties": lambda d: h.mbox_with_bad_message(d / "parties.mbox", parts=10_000),
        "mbox-imbrique-1000": lambda d: h.mbox_with_bad_message(d / "imbrique.mbox", depth=1_000),
        "eml-5000-pieces": lambda d: h.eml_attachments(d / "pieces.eml", 5_000 // k),
        "epub-doctype": lambda d: h.epub_doctype(d / "doctype.epub"),
        "pdf-graphe-recursif": lambda d: h.pdf_recursive(d / "recursif.pdf"),
        "docx-image-40000-px": lambda d: h.docx_image_bomb(d / "image.docx", 40_000 // k),
    }


def _tree_rss(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, in bytes (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_ingest(folder: Path, home: Path, timeout: float) -> dict:
    from veille.config import get_settings

    # The built model of this checkout: a fresh home would otherwise build its own first (minutes, gigabytes).
    env = dict(os.environ, VEILLE_HOME=str(home), VEILLE_MODELS_PATH=str(get_settings().models_dir))
    env.pop("VEILLE_CHROMA_URL", None)
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "ingest", "--json", str(folder)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    try:
        report = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        report = {"error": (err or "").strip().splitlines()[-1:] or ["arrêté"]}
    return {"report": report, "wall": wall, "peak": peak[0], "rc": proc.returncode}


def hostile_table(selected: list[str] | None, small: bool, timeout: float) -> None:
    table = Table(title="Fichiers hostiles — veille ingest (dossier : le fichier + une note Markdown)")
    for column in ("fichier", "taille", "pic mémoire (arbre)", "durée", "issue", "raison affichée", "note"):
        table.add_column(column, overflow="fold")
    for name, make in cases(small).items():
        if selected and name not in selected:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "dossier"
            folder.mkdir()
            (folder / "0-note.md").write_text(h.NORMAL_NOTE, encoding="utf-8")
            t0 = time.perf_counter()
            path = make(folder)
            made = time.perf_counter() - t0
            result = run_ingest(folder, Path(tmp) / "home", timeout)
            report = result["report"]
            problems = [p for p in report.get("problems", []) if not p["source"].endswith("0-note.md")]
            cut = report.get("cut", [])
            if "error" in report:
                outcome, reason = "arrêt", " ".join(report["error"])
            elif problems:
                outcome = "refusé" if not report.get("added", 0) > 1 else "lu en partie"
                reason = " ; ".join(f"{Path(p['source']).name}: {p['reason']}" for p in problems[:2])
                if len(problems) > 2:
                    reason += f" ; … ({len(problems)} en tout)"
            elif cut:
                outcome, reason = "coupé", cut[0]["reason"]
            else:
                outcome, reason = "lu", ""
            note = "oui" if report.get("added", 0) >= 1 else "NON"
            table.add_row(name, f"{path.stat().st_size / MB:,.1f} Mo", f"{result['peak'] / MB:,.0f} Mo",
                          f"{result['wall']:.1f} s", outcome, reason[:300], note)
            console.print(f"  {name} : fabriqué en {made:.1f} s, ingéré en {result['wall']:.1f} s", style="dim")
    console.print(table)


def normal_files(tmp: Path) -> dict[str, list[Path]]:
    from bench.samples import samples

    sets: dict[str, list[Path]] = {}
    spf = REPO.parent / "shared" / "bench" / "spf" / "corpus.jsonl"
    if spf.exists():
        import random

        rows = [json.loads(line) for line in spf.open(encoding="utf-8")]
        random.Random(42).shuffle(rows)
        folder = tmp / "spf"
        folder.mkdir()
        sets["SPF 400"] = []
        for row in rows[:400]:
            path = folder / f"{row['id']}.md"
            path.write_text(f"# {row['title']}\n\n{row['text']}\n", encoding="utf-8")
            sets["SPF 400"].append(path)
    else:
        console.print("[yellow]../shared absent : SPF 400 sauté.[/]")
    sets["corpus de démonstration"] = sorted(p for p in (REPO / "corpus").iterdir() if p.suffix == ".txt")
    folder = tmp / "formats"
    folder.mkdir()
    sets["un fichier par format"] = []
    for sample in samples(ocr=True):
        path = folder / sample.name
        path.write_bytes(sample.data)
        sets["un fichier par format"].append(path)
    return sets


def fence_cost() -> None:
    from ingestion.extract import extract
    from ingestion.fence import extract_fenced
    from ingestion.read import SkipFile, read_file
    from veille.config import get_settings

    settings = get_settings()
    table = Table(title="Coût de la clôture (extraction dans le processus contre dans le processus de lecture "
                        "borné), même exécution, passes alternées")
    for column in ("fichiers", "n", "dans le processus", "derrière la clôture", "écart par fichier", "rapport"):
        table.add_column(column)
    with tempfile.TemporaryDirectory() as tmp:
        for label, paths in normal_files(Path(tmp)).items():
            raws = [read_file(p, settings.max_file_bytes) for p in paths]
            extract_fenced(raws[0], settings)  # the worker started before the clock, as the peer's imports
            for raw in raws:
                try:
                    extract(raw)  # imports of every format before the clock
                except SkipFile:
                    pass
            times = {"in": 0.0, "fence": 0.0}
            for _round in range(2):
                for key, run in (("in", lambda r: extract(r)), ("fence", lambda r: extract_fenced(r, settings))):
                    t0 = time.perf_counter()
                    for raw in raws:
                        try:
                            run(raw)
                        except SkipFile:
                            pass
                    times[key] += time.perf_counter() - t0
            n = len(raws)
            table.add_row(label, str(n), f"{times['in'] / 2:.2f} s", f"{times['fence'] / 2:.2f} s",
                          f"{(times['fence'] - times['in']) / 2 / n * 1000:+.1f} ms",
                          f"{times['fence'] / max(times['in'], 1e-9):.2f}×")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="cas à mesurer, séparés par des virgules")
    parser.add_argument("--small", action="store_true", help="tailles réduites (÷ 8)")
    parser.add_argument("--skip-cost", action="store_true", help="sans la partie 2 (coût de la clôture)")
    parser.add_argument("--timeout", type=float, default=900.0, help="secondes par ingestion avant arrêt")
    args = parser.parse_args()
    console.print(f"Charge de la machine au départ : {os.getloadavg()[0]:.2f}")
    hostile_table([c for c in args.only.split(",") if c] or None, args.small, args.timeout)
    if not args.skip_cost:
        fence_cost()


if __name__ == "__main__":
    main()
