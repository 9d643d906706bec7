"""Entity names: how a mention becomes a key (« la Région Normandie » = « Région Normandie »), and the alias file
the user edits (``$VEILLE_HOME/entites.yaml``: variants of one name, names to ignore, imposed types).

Mentions are stored with the key of their own surface (``norm``) and the key of the canonical name it is an alias
of (``key``); when the file changes, the store re-keys the mentions (``Store.sync_entity_aliases``), so an edit
applies to what is already ingested without running the model again.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from veille.errors import VeilleError
from veille.text import fold

LABELS = ("ORG", "PER", "LOC")
LABEL_NAMES = {"ORG": "organisation", "PER": "personne", "LOC": "lieu"}

# Leading articles dropped from a name, except in the place names that carry theirs.
_ARTICLE = re.compile(r"(?:l['’]\s*|la\s+|le\s+|les\s+|un\s+|une\s+)", re.IGNORECASE)
_KEEP_ARTICLE = {"le havre", "le mans", "la rochelle", "la hague", "la defense", "le treport", "les andelys",
                 "la reunion", "le creusot", "le touquet", "le neubourg", "la ferte-mace", "la haye-du-puits"}
_EDGE = set("\"'’«»“”.,;:!?()[]{}*_#|/\\-–— \t\n\u00a0")


def surface_bounds(text: str) -> tuple[int, int]:
    """Where the name itself lies in a mention as found: quotes and punctuation trimmed at both ends, a
    leading article dropped (« l’INSEE » → « INSEE », « la Région Normandie » → « Région Normandie »),
    except in the place names that carry theirs (« Le Havre »)."""
    start, end = 0, len(text)

    def trim() -> None:
        nonlocal start, end
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1

    trim()
    m = _ARTICLE.match(text, start, end)
    kept = re.sub(r"\s+", " ", fold(text[start:end])).replace("’", "'")
    if m and kept not in _KEEP_ARTICLE and end - m.end() > 1:
        start = m.end()
        trim()
    return start, end


def clean_surface(text: str) -> str:
    """A mention as shown: its name (``surface_bounds``) on one line, spaces collapsed."""
    start, end = surface_bounds(text)
    return re.sub(r"\s+", " ", text[start:end].replace("\u00a0", " ")).strip()


def entity_key(name: str) -> str:
    """The comparison form of a name: cleaned, folded (case, accents), hyphens and apostrophes unified."""
    key = fold(clean_surface(name)).replace("’", "'")
    return re.sub(r"\s+", " ", key.replace("-", " ")).strip()


class AliasError(VeilleError, ValueError):
    """The alias file cannot be read (French message naming the file and the problem)."""


DEFAULT_ALIASES = """\
# Entités de Veille : fichier modifiable.
# Il s'applique aux documents déjà ingérés dès la prochaine commande (sans relancer la reconnaissance).
#
# alias : un nom retenu, puis ses variantes (même organisation, même personne, même lieu).
# ignorer : des noms que la reconnaissance trouve mais qui ne désignent pas une entité précise.
# types : le type imposé d'un nom (ORG organisation, PER personne, LOC lieu) ; le nom est alors
#         aussi reconnu tel quel dans tous les textes ingérés ensuite.
alias:
  INSEE: [Institut national de la statistique et des études économiques]
  ANSSI: [Agence nationale de la sécurité des systèmes d'information]
  Bpifrance: [BPI France, Banque publique d'investissement]
ignorer:
  - État
  - Etat
  - Région
  - Régions
  - Gouvernement
  - Préfecture
  - Préfectures
  - Sous-Préfectures
  - Ministère
  - Département
  - Collectivités
  - PME
  - TPE
  - ETI
  - PMI
  - IE
  - IET
  - IA
  - ESR
  - R&D
  - RH
  - TIC
  - PIB
  - BTP
  - TVA
  - RGPD
types:
  INSEE: ORG
  ANSSI: ORG
  Bpifrance: ORG
"""


@dataclass
class AliasBook:
    """The alias file, read: ``canonical(key)`` gives the key a mention is counted under ('' when ignored)."""
    aliases: dict[str, str] = field(default_factory=dict)  # variant key -> canonical key
    names: dict[str, str] = field(default_factory=dict)  # canonical key -> name as written in the file
    ignored: set[str] = field(default_factory=set)
    types: dict[str, str] = field(default_factory=dict)  # canonical key -> label
    variant_names: dict[str, str] = field(default_factory=dict)  # variant as written -> canonical key
    digest: str = ""

    def canonical(self, key: str) -> str:
        key = self.aliases.get(key, key)
        return "" if key in self.ignored else key

    def known_names(self) -> list[tuple[str, str]]:
        """(name, label) of every name the file types, with its variants: patterns for the entity ruler."""
        out = []
        for key, label in self.types.items():
            out.append((self.names.get(key, key), label))
            out += [(variant, label) for variant, canon in self.variant_names.items() if canon == key]
        return out

    @classmethod
    def parse(cls, text: str, where: str = "entites.yaml") -> "AliasBook":
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise AliasError(f"Fichier d'entités « {where} » illisible : {exc}") from None
        if not isinstance(data, dict):
            raise AliasError(f"Fichier d'entités « {where} » : attendu des sections alias, ignorer, types.")
        unknown = set(data) - {"alias", "ignorer", "types"}
        if unknown:
            raise AliasError(f"Fichier d'entités « {where} » : sections inconnues {', '.join(sorted(unknown))} "
                             "(possibles : alias, ignorer, types).")
        book = cls(digest=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])
        for name, variants in (data.get("alias") or {}).items():
            canon = entity_key(str(name))
            book.names[canon] = clean_surface(str(name))
            for variant in variants if isinstance(variants, list) else [variants]:
                if entity_key(str(variant)) != canon:
                    book.aliases[entity_key(str(variant))] = canon
                    book.variant_names[clean_surface(str(variant))] = canon
        book.ignored = {entity_key(str(n)) for n in data.get("ignorer") or []}
        for name, label in (data.get("types") or {}).items():
            label = str(label).upper()
            if label not in LABELS:
                raise AliasError(f"Fichier d'entités « {where} » : type « {label} » pour « {name} » "
                                 f"(possibles : {', '.join(LABELS)}).")
            canon = book.aliases.get(entity_key(str(name)), entity_key(str(name)))
            book.types[canon] = label
            book.names.setdefault(canon, clean_surface(str(name)))
        return book


def alias_path(home: Path) -> Path:
    return home / "entites.yaml"


def load_aliases(home: Path) -> AliasBook:
    """The user's alias file, written from the default one the first time."""
    path = alias_path(home)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DEFAULT_ALIASES, encoding="utf-8")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AliasError(f"Fichier d'entités « {path} » illisible : {exc}") from None
    return AliasBook.parse(text, str(path))
