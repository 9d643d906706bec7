"""Prompts are data: French templates in ``prompts/<name>.txt`` with ``{variable}`` fields.

A template is rendered only with exactly its own variables: a missing or an unexpected one is a
clear error (a typo in a template or in the code must not silently send a half-filled prompt).
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from veille.config import PROMPTS_DIR
from veille.errors import VeilleError


class PromptError(VeilleError, ValueError):
    pass


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str
    variables: frozenset[str]

    def render(self, **values) -> str:
        missing = self.variables - values.keys()
        extra = values.keys() - self.variables
        if missing or extra:
            details = []
            if missing:
                details.append(f"variables manquantes : {', '.join(sorted(missing))}")
            if extra:
                details.append(f"variables inconnues : {', '.join(sorted(extra))}")
            raise PromptError(f"Gabarit « {self.name} » : {' ; '.join(details)} "
                              f"(attendues : {', '.join(sorted(self.variables)) or 'aucune'}).")
        return self.text.format(**{k: str(v) for k, v in values.items()})


def _variables(name: str, text: str) -> frozenset[str]:
    names = set()
    try:
        for _, field, spec, conv in string.Formatter().parse(text):
            if field is None:
                continue
            if not field.isidentifier():
                raise PromptError(f"Gabarit « {name} » : champ invalide {{{field}}} (un nom simple est attendu).")
            names.add(field)
    except ValueError as exc:  # unbalanced braces
        raise PromptError(f"Gabarit « {name} » mal formé : {exc} (doublez les accolades littérales : {{{{ }}}}).")
    return frozenset(names)


@lru_cache(maxsize=64)
def _load(name: str, directory: Path) -> Prompt:
    path = directory / f"{name}.txt"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.txt"))
        raise PromptError(f"Gabarit inconnu : « {name} » (disponibles : {', '.join(known) or 'aucun'}).")
    text = path.read_text(encoding="utf-8").rstrip("\n")
    return Prompt(name, text, _variables(name, text))


def load_prompt(name: str, directory: Path | None = None) -> Prompt:
    return _load(name, Path(directory or PROMPTS_DIR))


def render(name: str, **values) -> str:
    return load_prompt(name).render(**values)
