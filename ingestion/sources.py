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


def _link_problem(path: Path) -> str | None:
    """Why a symbolic link is not followed (a loop, a missing target, a folder), or None."""
    try:
        target = path.resolve(strict=True)
    except (RuntimeError, OSError) as exc:  # RuntimeError up to Python 3.12, OSError(ELOOP) after
        if isinstance(exc, FileNotFoundError):
            return "lien symbolique cassé : sa cible est introuvable"
        return "lien symbolique en boucle : ignoré"
    if target.is_dir():
        if target in path.parents or target == path.parent:
            return "lien symbolique en boucle (il pointe vers un dossier parent) : non suivi"
        return "lien symbolique vers un dossier : non suivi (indiquez ce dossier lui-même)"
    return None


def discover(paths: list[Path]) -> list[Candidate]:
    """Files under ``paths`` in a stable order; unsupported or unreadable ones carry a reason."""
    found: list[Candidate] = []
    seen: set[Path] = set()
    for root in paths:
        root = Path(root).expanduser()
        if not root.exists():
            problem = _link_problem(root) if root.is_symlink() else None
            found.append(Candidate(root, problem or "chemin introuvable"))
            continue
        # Symbolic links to folders are never descended into (rglob), so a link loop cannot recurse;
        # links that cannot be followed are reported rather than silently left out.
        files = [root] if not root.is_dir() else sorted(
            p for p in root.rglob("*") if p.is_symlink() or not p.is_dir())
        for path in files:
            if is_sidecar(path) or any(part.startswith(".") for part in path.relative_to(
                    root if root.is_dir() else root.parent).parts):
                continue
            if root.is_dir() and path.name in IGNORED_NAMES:
                continue
            problem = _link_problem(path) if path.is_symlink() else None
            if problem:
                found.append(Candidate(path, problem))
                continue
            if not path.is_file():
                found.append(Candidate(path, "fichier spécial (tube, socket ou périphérique) : ignoré"))
                continue
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            if path.suffix.lower() not in SUPPORTED:
                found.append(Candidate(resolved, f"type de fichier non pris en charge ({path.suffix or 'sans extension'})"))
            else:
                found.append(Candidate(resolved))
    return found
