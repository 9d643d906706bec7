"""Entities stage: organisations, people and places in every passage, with spaCy's French pipeline
(``fr_core_news_md``: its NER alone, the other pipes are not even loaded), an entity ruler for the names the
user's alias file types, and a post-filter for what that model gets wrong in this domain.

Cost: the model loads lazily (5–15 s) the first time a batch has something to read; only the lines that can
hold a name (a capitalised word that is not a sentence-initial stop word) go through ``nlp.pipe``, each once
even when two chunks overlap. Quality per type on a gold set from ``corpus/``: ``python -m eval.entities``.

Post-filter (rules written on the gold set's dev documents, see eval/data/entities_gold.json):
- spans over a line break (a heading glued to the next line), with Markdown or link residue, or glued across
  a missing space (« PMI.En ») are dropped; « A - B » is read as two names;
- a span made of common French words only (the model's dictionary: « Installation », « Cartographier »,
  « Groupe de travail », « Intelligence Économique Territoriale ») is dropped, unless it names an institution
  with a complement (« Ministère de l'Intérieur »); a single common word is dropped where capitals say nothing
  (sentence start, after a quote);
- institutions and acronyms the model calls places are organisations (« CCI Normandie », « Normandie
  Université », « HIPPOLIA »); titles are not part of a person's name (« Président Morin » → « Morin »);
- an organisation cut at an elision (« Association régionale de l’ » + « IHEDN ») is joined again.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from veille.entity_names import LABELS, AliasBook, clean_surface, entity_key, surface_bounds
from veille.store.entities import MentionRow
from veille.text import fold, split_sentences

DEFAULT_MODEL = "fr_core_news_md"
# NER has its own tok2vec; the lemmatizer's tables are read once into a Dictionary (class below)
_PIPES_UNUSED = ["tok2vec", "morphologizer", "parser", "attribute_ruler", "senter", "lemmatizer"]
# A name whose first word is one of these is an organisation, whatever the model says.
ORG_HEADS = {"cci", "cma", "chambre", "agence", "banque", "ministere", "pole", "conseil", "cour", "assemblee",
             "commission", "direction", "prefecture", "office", "institut", "caisse", "federation", "confederation",
             "union", "association", "syndicat", "universite", "ecole", "centre", "comite", "fondation", "groupe",
             "societe", "mission", "delegation", "observatoire", "region", "regions", "departement", "communaute", "metropole",
             "cluster", "reseau", "club", "tribunal", "autorite", "secretariat", "ordre", "commissaire", "commissariat"}
# ... and one holding one of these anywhere (« Normandie Université », « Sorbonne Université »).
ORG_WORDS = {"cci", "universite", "agence", "association", "banque", "chambre", "institut", "ecole", "ministere",
             "fondation", "federation", "syndicat", "observatoire", "caisse"}
# Institutions named with common words only: kept by the common-words filter when a complement follows.
NAMED_BY_COMMON_WORDS = {"ministere", "chambre", "agence", "banque", "conseil", "cour", "assemblee", "direction",
                         "prefecture", "office", "institut", "caisse", "federation", "confederation", "union",
                         "association", "syndicat", "universite", "ecole", "fondation", "observatoire", "haut",
                         "tribunal", "autorite", "secretariat", "ordre", "delegation", "pole", "commissaire",
                         "commissariat"}
# Places whose name is also a French word (« Tours », « Vire »): a lone common word is no name, except these.
PLACES_LIKE_WORDS = {"paris", "tours", "nice", "lens", "sens", "vire", "rennes", "laval", "vienne", "orange", "grasse",
                     "cognac", "dole", "pau", "agen", "bar", "lisieux", "condé", "vernon", "dieppe", "fécamp", "bayeux",
                     "falaise", "mortagne", "argentan", "avranches", "granville", "coutances", "valognes", "louviers",
                     "evreux", "caen", "rouen", "alençon", "cherbourg", "saint-lô", "europe", "afrique", "asie",
                     "amérique", "chine", "inde", "france", "italie", "espagne", "allemagne", "belgique", "suisse"}
# Continuation of an institution's name the model cuts short: « Ministère de l'Économie[, des Finances et de
# l'Industrie] », « Chambre de Métiers[ et de l'Artisanat Calvados-Orne] ».
_CONTINUATION = re.compile(r"(?:,\s*|\s+et\s+)(?:de la |de l['’]|des |du |de |d['’])[A-ZÀ-Ý][\w'’-]*"
                           r"(?:\s+[A-ZÀ-Ý][\w'’-]*)*")
TITLES = {"m", "mme", "mlle", "monsieur", "madame", "president", "presidente", "prefet", "prefete", "ministre",
          "dr", "docteur", "professeur", "pr", "maitre", "me", "general", "colonel", "maire", "senateur", "depute",
          "deputee", "directeur", "directrice", "commissaire"}
_FUNCTION_WORDS = {"de", "du", "des", "d", "la", "le", "les", "l", "et", "en", "a", "au", "aux", "pour", "sur",
                   "sous", "par", "un", "une"}
_WORDISH = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ0-9@&'’]+")
_RESIDUE = re.compile(r"\]\(|[\[\]*#|<>{}=]|https?:|www\.|\w\.[A-ZÀ-Ý][a-zà-ÿ]")
_DASH = re.compile(r"\s+[-–—]\s+")
_EXPOSED_AFTER = set(".!?:;«\"“(-–—•·")


@dataclass(frozen=True)
class Found:
    start: int  # in the document text
    end: int
    label: str
    surface: str


class EntityExtractor:
    """``find(texts)`` → mentions of each text; thread-safe lazy loading of the spaCy model."""

    def __init__(self, book: AliasBook, model: str = DEFAULT_MODEL):
        self.book, self.model = book, model
        self._nlp = None
        self._dictionary = Dictionary()
        self._lock = threading.Lock()

    @property
    def nlp(self):
        with self._lock:
            if self._nlp is None:
                import spacy

                nlp = spacy.load(self.model, exclude=_PIPES_UNUSED)
                self._dictionary = Dictionary.of_model(Path(nlp.path)) if nlp.path else Dictionary()
                patterns = [{"label": label, "pattern": name} for name, label in self.book.known_names()]
                if patterns:
                    ruler = nlp.add_pipe("entity_ruler", before="ner", config={"phrase_matcher_attr": "LOWER"})
                    ruler.add_patterns(patterns)
                self._nlp = nlp
            return self._nlp

    def find(self, texts: list[str]) -> list[list[Found]]:
        """Mentions of each text (offsets in that text), after the post-filter."""
        segments = [(i, s, e) for i, text in enumerate(texts) for s, e in candidate_segments(text)]
        out: list[list[Found]] = [[] for _ in texts]
        if not segments:
            return out
        docs = self.nlp.pipe((texts[i][s:e] for i, s, e in segments), batch_size=64)
        for (i, s, _e), doc in zip(segments, docs):
            spans = [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
            for start, end, label in _joined(doc.text, spans):
                for part_start, part_end in _parts(doc.text, start, end):
                    found = self._keep(doc.text, part_start, part_end, label)
                    if found is not None:
                        out[i].append(Found(s + found[0], s + found[1], found[2], found[3]))
        return out

    def _keep(self, text: str, start: int, end: int, label: str) -> tuple[int, int, str, str] | None:
        """(start, end, label, surface) of the name in ``text[start:end]``, or None when it is no name."""
        raw = text[start:end]
        if "\n" in raw or _RESIDUE.search(raw):
            return None
        lead, stop = surface_bounds(raw)
        start, end = start + lead, start + stop
        surface = clean_surface(text[start:end])
        key = entity_key(surface)
        imposed = self.book.types.get(self.book.aliases.get(key, key))
        label = imposed or _relabel(label, surface)
        if label not in LABELS:
            return None
        if label == "PER" and not imposed:
            start, surface = _without_title(text, start, end)
        if len(surface) < 2 or not any(c.isupper() for c in surface):
            return None
        if not imposed and self._all_common(surface, label, _exposed(text, start)):
            return None
        return start, end, label, surface

    def _all_common(self, surface: str, label: str, exposed: bool) -> bool:
        """True for a span of common French words only, unless it is an institution with a complement.
        Acronyms, hyphenated compounds (« Grand-Est ») and words the dictionary does not know are names; a
        single common word is dropped only where a capital says nothing (``exposed``)."""
        words = _WORDISH.findall(surface)
        content = [w for w in words if fold(w).strip("'’") not in _FUNCTION_WORDS]
        if not content or any(w.isupper() and len(w) > 1 for w in content) or re.search(r"\w-[A-ZÀ-Ý]", surface):
            return False
        if label == "PER" and sum(1 for w in words if w[:1].isupper()) >= 2:
            return False  # « A. Juillet »: a first name or an initial and a surname
        lowered = [w.lower().replace("’", "'").split("'")[-1] for w in content]
        if not all(_is_common(w, self._dictionary) for w in lowered):
            return False
        folded = [fold(w) for w in lowered]
        if len(words) == 1:
            return lowered[0] not in PLACES_LIKE_WORDS
        has_complement = len(words) > len(content)
        return not (label == "ORG" and folded[0] in NAMED_BY_COMMON_WORDS and has_complement)


_SHARED: dict[tuple[str, str], EntityExtractor] = {}
_SHARED_LOCK = threading.Lock()


def shared_extractor(book: AliasBook, model: str = DEFAULT_MODEL) -> EntityExtractor:
    """One extractor (one loaded spaCy model) per process, model and alias file: the web UI's uploads and the
    scheduler's runs pay the loading once."""
    with _SHARED_LOCK:
        key = (model, book.digest)
        if key not in _SHARED:
            _SHARED[key] = EntityExtractor(book, model)
        return _SHARED[key]


def _joined(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Spans with an organisation cut at an elision joined to the name after it, and an institution's name
    extended over the complements the model left out (the spans they overlap are dropped)."""
    out: list[tuple[int, int, str]] = []
    for start, end, label in spans:
        if out and start < out[-1][1]:
            continue  # inside a name already extended
        if out and out[-1][1] == start and re.search(r"\b[dl]['’]$", text[out[-1][0]:out[-1][1]], re.I):
            out[-1] = (out[-1][0], end, out[-1][2])
        else:
            out.append((start, end, label))
        first = fold(_WORDISH.findall(text[out[-1][0]:out[-1][1]])[0]) if _WORDISH.search(text[out[-1][0]:out[-1][1]]) else ""
        if first in NAMED_BY_COMMON_WORDS:
            s, e, lab = out[-1]
            while m := _CONTINUATION.match(text, e):
                e = m.end()
            out[-1] = (s, e, lab)
    return out


def _parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """« Artisanat Calvados-Orne - Pôle ATEN » is two names."""
    out, cursor = [], start
    for m in _DASH.finditer(text, start, end):
        out.append((cursor, m.start()))
        cursor = m.end()
    out.append((cursor, end))
    return [(s, e) for s, e in out if e > s]


def _exposed(text: str, start: int) -> bool:
    """True where a capital is required anyway: at the start of a sentence or line, after a quote or a dash."""
    before = text[:start].rstrip()
    return not before or before[-1] in _EXPOSED_AFTER or text[len(before):start].count("\n") > 0


def _without_title(text: str, start: int, end: int) -> tuple[int, str]:
    """A person's name without the title in front (« Président Morin », « M. Carpentier »)."""
    m = re.match(r"([A-Za-zÀ-ÿ]+)\.?\s+", text[start:end])
    if m and fold(m.group(1)) in TITLES and end - start - m.end() > 1:
        start += m.end()
    return start, clean_surface(text[start:end])


def _relabel(label: str, surface: str) -> str:
    """The model's label, corrected where it is known to err here: institutions it calls places or « MISC »
    and acronyms are organisations."""
    words = [fold(w).replace("’", "'").split("'")[-1] for w in _WORDISH.findall(surface)]
    if not words:
        return label
    if label in ("LOC", "MISC") and len(words) > 1 and (words[0] in ORG_HEADS or ORG_WORDS & set(words)):
        return "ORG"
    word = re.sub(r"[-@&'’]", "", surface)
    if label in ("LOC", "MISC") and " " not in surface and word.isalnum() and word.upper() == word \
            and any(c.isalpha() for c in word) and 2 <= len(word) <= 10:
        return "ORG"
    return label


@dataclass(frozen=True, eq=False)
class Dictionary:
    """The words of the model's lemmatizer tables: every lemma (folded) and every form the form → lemma table
    knows (exact lower case: « influence », « opérationnels »). Read once from the package's lookups file and
    kept as a set and a sorted array of the forms' spaCy hashes: the tables themselves (the lemmatizer pipe,
    which only this membership test used) held 141 MB of a 1.5 GB ingestion."""

    lemmas: frozenset[str] = frozenset()
    form_hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    @classmethod
    def of_model(cls, model_path: Path) -> Dictionary:
        from spacy.lookups import Lookups

        folder = model_path / "lemmatizer" / "lookups"
        if not folder.is_dir():
            return cls()
        lookups = Lookups().from_disk(folder)
        lemmas: set[str] = set()
        for name in ("lemma_index", "lemma_lookup"):
            if lookups.has_table(name):
                for values in lookups.get_table(name).values():
                    lemmas.update(fold(w) for w in (values if isinstance(values, list) else [values]))
        forms = lookups.get_table("lemma_lookup") if lookups.has_table("lemma_lookup") else {}
        hashes = np.fromiter(forms.keys(), dtype=np.uint64, count=len(forms))
        hashes.sort()
        return cls(frozenset(lemmas), hashes)

    def has_form(self, form: str) -> bool:
        from spacy.strings import get_string_id

        key = np.uint64(get_string_id(form))
        at = int(np.searchsorted(self.form_hashes, key))
        return at < len(self.form_hashes) and self.form_hashes[at] == key


_INFLECTIONS = (("s", ""), ("x", ""), ("aux", "al"), ("ale", "al"), ("ales", "al"), ("elle", "el"), ("elles", "el"),
                ("ive", "if"), ("ives", "if"), ("euse", "eur"), ("euses", "eur"), ("ente", "ent"), ("entes", "ent"),
                ("enne", "en"), ("ennes", "en"), ("ère", "er"), ("ères", "er"), ("ique", "ic"), ("iques", "ique"))


def _is_common(word: str, dictionary: Dictionary) -> bool:
    """A dictionary word (lower case, accents kept), or a regular plural / feminine of one."""
    forms = {word}
    for suffix, repl in _INFLECTIONS:
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            forms.add(word[: -len(suffix)] + repl)
    return any(fold(f) in dictionary.lemmas or dictionary.has_form(f) for f in forms)


_STOP_STARTS = {"le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "ce", "cet", "cette", "ces", "il",
                "elle", "ils", "elles", "on", "en", "dans", "pour", "par", "sur", "avec", "depuis", "mais", "et", "ou",
                "si", "lors", "apres", "avant", "a", "au", "aux", "son", "sa", "ses", "leur", "leurs", "nous", "vous",
                "je", "tout", "tous", "toute", "toutes", "plus", "cela", "ainsi", "selon", "entre", "chaque", "quand",
                "comme", "qui", "que", "quel", "quelle", "quels", "quelles", "notre", "votre", "nos", "vos", "se",
                "ne", "pas", "y", "c", "s", "n", "qu", "j", "m", "t", "sans", "afin", "enfin", "aussi", "alors",
                "puis", "donc", "or", "car", "ni", "voici", "voila", "parmi", "vers", "chez", "sous", "contre",
                "pendant", "durant", "outre", "certains", "certaines", "plusieurs", "deux", "trois", "quatre",
                "cinq", "celui", "celle", "ceux", "celles", "lorsque", "puisque", "bien", "tres", "est"}


def _may_hold_name(sentence: str) -> bool:
    """A sentence can hold a name only with a capitalised word other than a sentence-initial stop word."""
    words = _WORDISH.findall(sentence)
    if not words:
        return False
    if any(w[:1].isupper() for w in words[1:]):
        return True
    first = fold(words[0]).replace("’", "'").split("'")[0]
    return words[0][:1].isupper() and first not in _STOP_STARTS


MAX_SEGMENT = 20000


def candidate_segments(text: str) -> list[tuple[int, int]]:
    """Runs of consecutive sentences of one line that may hold a name (each read once by the model)."""
    runs: list[list[int]] = []
    for start, end in split_sentences(text):
        if not _may_hold_name(text[start:end]):
            continue
        gap = text[runs[-1][1]:start] if runs else "\n"
        if runs and not gap.strip() and "\n" not in gap and end - runs[-1][0] <= MAX_SEGMENT:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return [(s, e) for s, e in runs]


def mentions_for_chunks(found: list[Found], chunks, chunk_id, book: AliasBook) -> list[MentionRow]:
    """Each mention attached to the first chunk that holds it (chunks overlap by a sentence)."""
    rows = []
    for f in found:
        holder = next((c for c in chunks if c.start <= f.start and f.end <= c.end), None)
        holder = holder or next((c for c in chunks if c.start <= f.start < c.end), None)
        if holder is None:
            continue
        norm = entity_key(f.surface)
        rows.append(MentionRow(chunk_id(holder), f.start, f.end, f.label, f.surface, norm, book.canonical(norm)))
    return rows
