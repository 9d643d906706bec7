"""Stage 1 — sources: turn the paths a user names into the list of candidate files."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingestion.extract import EXTRACTORS

SUPPORTED = set(EXTRACTORS)  # every extension extract() has an extractor for
SIDECAR_SUFFIXES = (".meta.json", ".meta.yaml", ".meta.yml")
IGNORED_NAMES = {"README.md", "sources.yaml", "sources.yml", "sources.example.yaml", "LICENSE", "NOTICE"}


@dataclass(frozen=True)
class Candidate:
    path: Path
    reason: str | None = None  # set when the file is skipped before reading


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIXES)


def discover(paths: list[Path]) -> list[Candidate]:
    """Files under ``paths`` in a stable order; unsupported or unreadable ones carry a reason."""
    found: list[Candidate] = []
    seen: set[Path] = set()
    for root in paths:
        root = Path(root).expanduser()
        if not root.exists():
            found.append(Candidate(root, "chemin introuvable"))
            continue
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            resolved = path.resolve()
            if resolved in seen or is_sidecar(path) or any(part.startswith(".") for part in path.relative_to(
                    root if root.is_dir() else root.parent).parts):
                continue
            if root.is_dir() and path.name in IGNORED_NAMES:
                continue
            seen.add(resolved)
            if path.suffix.lower() not in SUPPORTED:
                found.append(Candidate(resolved, f"type de fichier non pris en charge ({path.suffix or 'sans extension'})"))
            else:
                found.append(Candidate(resolved))
    return found
