"""Follow-up questions: first decide *whether* a question depends on the previous turn, then rewrite it.

A question depends on the previous one when something in it stands for what was asked before and nothing in
it says what: a connective (« Et en 2019 ? »), an ellipsis without verb (« Pour quelles raisons ? »), a
subject pronoun with no noun for it (« Quand a-t-il été installé ? »), an object pronoun (« Qui le
préside ? », « Qui en bénéficie ? »), a demonstrative or possessive (« ce concept », « son budget »), or a
verb without object (« Qui finance ? »). A question with its own subject is left alone, inversions included
(« À combien de structures le bulletin est-il transmis ? »), complex inversions too: « Quel document aide-t-il
les entreprises ? », « Quelles régions se sont-elles portées candidates ? » (the pronoun repeats the noun of
« quel »: it agrees with it, and the verb is reflexive, passive or has its object after it; when nothing tells,
as in « Quel âge a-t-il ? », the previous turn decides). Measured on eval/data/followups.jsonl
(``python -m eval.followups``).

The rewrite keeps French grammar: what the pronoun stands for (``antecedent``: agreeing in gender and number,
the subject or a name of the previous turn before any other noun phrase) goes where the pronoun was, before an
inverted verb, after the verb of « Qui le préside », or after the verb with « à » for « leur », « lui », « y »;
when no transformation is sure, the question is kept as typed and its context put in front (« À propos du
comité stratégique : combien en restait-il ? »). The previous period is carried only into an elliptical
follow-up (« Et en 2019 ? »), never into a new question about what a pronoun stands for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.conversation.antecedent import antecedent, has_agreeing
from assistant.search.timefilter import _PATTERNS as _TIME_PATTERNS  # one grammar of periods with the date filters

W = r"[\wàâçéèêëîïôûùüÿœæ'’-]"
_CONNECTIVE = re.compile(r"^(?:et|mais|alors|puis|ensuite|sinon|ok|d['’]accord|seulement|uniquement)\b[\s,]*",
                         re.IGNORECASE)
_WH_WORDS = {"qui", "que", "qu", "quoi", "quand", "où", "comment", "pourquoi", "combien", "quel", "quelle", "quels",
             "quelles", "lequel", "laquelle", "lesquels", "lesquelles", "est-ce"}
_PREPOSITIONS = {"à", "a", "au", "aux", "en", "pour", "par", "dans", "sur", "chez", "depuis", "avant", "après", "avec",
                 "sans", "selon", "concernant", "côté", "entre", "vers", "contre", "de", "du", "des", "d"}
_DETERMINERS = {"le", "la", "les", "l", "un", "une", "des", "du", "au", "aux"}
_AUXILIARIES = {"a", "ont", "avait", "avaient", "aura", "auront", "est", "sont", "était", "étaient", "sera", "seront",
                "va", "vont", "peut", "peuvent", "doit", "doivent", "fait", "font", "faut", "ait"}
# Impersonal « il » points at nothing: « y a-t-il », « existe-t-il », « faut-il », « s'agit-il ».
_IMPERSONAL = re.compile(r"\by\s+(?:a|avait|aura|aurait)-t-il\b|\b(?:existe|existait|faut|fallait|agit|agissait)"
                         r"(?:-t)?-il\b|\bil\s+(?:y\s+a|y\s+avait|existe|faut|s['’]agit)\b", re.IGNORECASE)
_INVERSION = re.compile(r"(?<![\w-])(?P<verb>[\wàâçéèêëîïôûùüÿœæ]+?)(?:-t)?-(?P<pro>il|elle|ils|elles)\b", re.IGNORECASE)
_SUBJECT_PRONOUN = re.compile(r"(?:^|(?<=\s)|(?<=qu['’])|(?<=s['’]))(?:il|elle|ils|elles)\b", re.IGNORECASE)
_EN_CLITIC = re.compile(rf"(?:\b(?:qu['’]|s['’]|n['’])en\b|\b(?:qui|combien|ne|on)\s+en\b|\ben\s+{W}+(?:-t)?-(?:il|elle|ils|elles|on)\b"
                        r"|(?<!où )\ben\s+(?:a|ont|avait|est|sont|reste|restait|faut)\b)", re.IGNORECASE)
_Y_CLITIC = re.compile(r"(?<![\w'’-])y\b(?!\s+(?:a|avait|aura|aurait|ait)\b)(?!\s*-)", re.IGNORECASE)
_LUI = re.compile(r"\blui\b", re.IGNORECASE)
_DEMONSTRATIVE = re.compile(rf"\b(?P<det>ce|cet|cette|ces)\s+(?P<noun>{W}+)", re.IGNORECASE)
_DEMONSTRATIVE_PRONOUN = re.compile(r"\b(?:celui|celle|ceux|celles)(?:-ci|-là)?\b|\b(?:ce|cette|ces)\s+derni(?:er|ère|ers|ères)\b|"
                                    r"^(?:lequel|laquelle|lesquels|lesquelles)\b", re.IGNORECASE)
_POSSESSIVE = re.compile(rf"\b(?P<det>son|sa|ses|leur|leurs)\s+(?P<rest>{W}+(?:\s+{W}+)?)", re.IGNORECASE)
# Nouns after « ce/cette » that name a time, not a thing asked about before (« cette année »).
_TIME_NOUNS = {"année", "an", "mois", "semaine", "jour", "matin", "soir", "trimestre", "semestre", "printemps", "été",
               "automne", "hiver", "week-end", "moment", "siècle", "décennie"}
_WH_PHRASE = re.compile(rf"^(?:(?:à|de|depuis|par|pour|avec|dans|en|sur|au profit de)\s+)?(?:(?:quel|quelle|quels|quelles)\s+{W}+|"
                        rf"combien\s+(?:de\s+|d['’]){W}+|qu['’]est-ce\s+qu['’]?|est-ce\s+qu['’]?|qui|que|qu['’]|quoi|quand|où|"
                        r"comment|pourquoi|combien)\s*", re.IGNORECASE)


def time_span(text: str) -> tuple[int, int] | None:
    """Where the first time expression of ``text`` is (same grammar as the date filters)."""
    for _kind, pattern in _TIME_PATTERNS:
        m = pattern.search(text)
        if m:
            return m.span()
    return None


def without_time(text: str) -> str:
    span = time_span(text)
    if not span:
        return text
    return re.sub(r"\s{2,}", " ", text[: span[0]] + text[span[1]:]).replace(" ?", " ?").strip()


def time_text(text: str) -> str:
    span = time_span(text)
    return text[span[0]: span[1]].strip() if span else ""


def strip_q(text: str) -> str:
    return text.strip().rstrip(" ?.!").strip()


def words(text: str) -> list[str]:
    return re.findall(rf"{W}+", text)


def _bare(word: str) -> str:
    return word.lower().rstrip("'’")


def _is_name(word: str, first: bool) -> bool:
    """A proper name or an acronym (« Région », « PSL », « Mov'eo »), not a capitalised question word."""
    if not word[:1].isupper() or _bare(word) in _WH_WORDS | _DETERMINERS | _PREPOSITIONS | {"est", "a", "y"}:
        return False
    if first:  # the first word is capitalised anyway: only an acronym or a hyphenated name counts
        return word.isupper() and len(word) > 1 or bool(re.match(r"[A-ZÀ-Þ]\w+-[A-ZÀ-Þ]", word))
    return True


def has_noun_phrase(text: str) -> bool:
    """A determiner and its noun, or a name: something the question is about in its own words."""
    tokens = words(text)
    for i, token in enumerate(tokens):
        if _is_name(token, i == 0):
            return True
        if re.match(r"^[lL]['’]\w", token):  # « l'université », « l'IHEDN », not « l'a »
            if _bare(token[2:]) not in _AUXILIARIES:
                return True
            continue
        if _bare(token) in _DETERMINERS and i + 1 < len(tokens):
            nxt = tokens[i + 1]
            if _bare(nxt) not in _AUXILIARIES and not _INVERSION.fullmatch(nxt):
                return True
    return False


def _wh_end(core: str) -> int:
    m = _WH_PHRASE.match(core)
    return m.end() if m else 0


def _clitic_after_wh(core: str) -> bool:
    """« Qui le préside », « Qui l'a nommé », « Quel décret l'a créée »: an object pronoun, not a
    determiner (« Quand la Commission a-t-elle… », « Comment l'université PSL regroupe-t-elle… »)."""
    end = _wh_end(core)
    wh_words = words(core[:end])
    if not end or (wh_words and _bare(wh_words[-1]) in _AUXILIARIES):  # « Quels sont les trois volets »
        return False
    rest = core[end:]
    m = re.match(rf"(?P<pro>(?:les|le|la)\b|l['’])\s*(?P<next>{W}+)", rest, re.IGNORECASE)
    if not m:
        return False
    nxt = m.group("next")
    if _bare(nxt) in _AUXILIARIES:
        return True
    # A capitalised word or a later inverted subject pronoun makes « le/la/les » a determiner.
    return not (nxt[:1].isupper() or _INVERSION.search(rest[m.end():]) or _INVERSION.fullmatch(nxt))


def _clitic_before_infinitive(core: str) -> bool:
    """« pour les protéger », « peut y contribuer », « s'en protéger »."""
    return bool(re.search(rf"\b(?:pour|de|à|peut|peuvent|doit|faut|veut|va|vont)\s+(?:les|le|la|l['’])\s*"
                          rf"[a-zàâçéèêëîïôûù]{W}*(?:er|ir|re)\b(?!\s+{W})", core, re.IGNORECASE))


def _subject_before(core: str, end: int) -> bool:
    """A noun phrase of its own before ``end`` once the interrogative words are set aside."""
    return has_noun_phrase(core[_wh_end(core):end])


@dataclass(frozen=True)
class Dependence:
    reason: str  # why the question depends on the previous turn (for tests and the evaluation)


_COMPLEX_INVERSION = re.compile(
    rf"^(?:(?:à|de|depuis|par|pour|avec|dans|en|sur|chez)\s+)?(?P<wh>(?:quelles|quelle|quels|quel)\s+|combien\s+(?:de\s+|d['’]))"
    rf"(?P<noun>{W}+)(?P<adj>(?:\s+[a-zàâçéèêëîïôûùüÿœæ-]+){{0,2}}?)\s+(?P<clitics>(?:(?:ne|se)\s+|[ns]['’]\s*)*)"
    r"(?P<verb>[\wàâçéèêëîïôûùüÿœæ]+?)(?:-t)?-(?P<pro>il|elle|ils|elles)\b\s*(?P<rest>.*)$", re.IGNORECASE)
_OBJECT_START = re.compile(r"^(?:(?i:les|le|la|un|une|des|du|ses|son|sa|leurs?|ce|cet|cette|ces)\b|(?i:l['’])|\d|"
                           r"[A-ZÀ-Þ])")
_PARTICIPLE = re.compile(r"^[\wàâçéèêëîïôûù-]+(?:é|ée|és|ées|i|ie|is|ies|u|ue|us|ues|it|ite|its|ites|ert|erte|erts|ertes)$",
                         re.IGNORECASE)
_PRONOUN_FEATURES = {"il": ("m", "s"), "elle": ("f", "s"), "ils": ("m", "p"), "elles": ("f", "p")}


def complex_inversion(core: str) -> tuple[str, str] | None:
    """« Quel document aide-t-il les entreprises ? », « Quelles régions se sont-elles portées candidates ? »: the
    noun of « quel » / « combien de » is the subject the inverted pronoun repeats (French complex inversion).
    Returns ("own", pronoun) when sure — the pronoun agrees and the verb is reflexive, passive, or has its
    object after it — ("ambiguous", pronoun) when it agrees but nothing tells (« Quel âge a-t-il ? »: « âge »
    is the object), None when the pronoun does not agree or there is no such inversion."""
    m = _COMPLEX_INVERSION.match(core)
    if not m or _bare(m.group("noun")) in _AUXILIARIES:
        return None
    wh, noun, pro = m.group("wh").strip().lower(), m.group("noun"), m.group("pro").lower()
    if wh.startswith("combien"):
        gender, number = None, "p" if re.search(r"[sx]$", noun) else "s"
    else:
        gender, number = {"quel": ("m", "s"), "quelle": ("f", "s"), "quels": ("m", "p"), "quelles": ("f", "p")}[wh]
    want_gender, want_number = _PRONOUN_FEATURES[pro]
    if number != want_number or gender not in (None, want_gender):
        return None
    rest = words(m.group("rest"))
    if re.search(r"\b(?:se|s['’])", m.group("clitics"), re.IGNORECASE):
        return "own", pro
    after = m.group("rest").strip()
    if _bare(m.group("verb")) in _AUXILIARIES and rest:
        if _bare(rest[0]) == "été" or (_bare(m.group("verb")) in {"est", "sont", "était", "étaient", "sera", "seront"}
                                       and _PARTICIPLE.match(rest[0])):
            return "own", pro  # passive: « Quel organisme a-t-il été créé », « Quelle laiterie est-elle installée »
        if _PARTICIPLE.match(rest[0]):
            after = m.group("rest").strip()[len(rest[0]):].strip()
    if after and _OBJECT_START.match(after) and not re.match(r"(?:au|aux)\b", after, re.IGNORECASE):
        return "own", pro
    return "ambiguous", pro


def depends_on_previous(question: str, previous: str | None = None) -> Dependence | None:
    """Whether ``question`` needs the previous turn to be understood, and why; None when it stands alone.
    ``previous`` (the previous standalone question) settles an ambiguous complex inversion: « Quel âge a-t-il ? »
    depends on it when it holds something the pronoun can stand for."""
    q = question.strip()
    if _CONNECTIVE.match(q):
        return Dependence("connective")
    core = strip_q(without_time(q))
    if not core:
        return Dependence("period only")
    tokens = words(core)
    lowered = [_bare(t) for t in tokens]
    if _DEMONSTRATIVE_PRONOUN.search(core):
        return Dependence("demonstrative pronoun")
    if _LUI.search(core) or _EN_CLITIC.search(core) or _Y_CLITIC.search(core):
        return Dependence("object pronoun")
    if _clitic_after_wh(core) or _clitic_before_infinitive(core):
        return Dependence("object pronoun")
    impersonal = _IMPERSONAL.search(core)
    inversion = complex_inversion(core)
    if inversion and inversion[0] == "ambiguous" and previous is not None:
        inversion = None if has_agreeing(inversion[1], strip_q(without_time(previous)), subject_of(previous)) \
            else ("own", inversion[1])
    own = inversion is not None and inversion[0] == "own"
    for m in _INVERSION.finditer(core):
        if impersonal and impersonal.start() <= m.start() < impersonal.end() + 2:
            continue
        if own and m.group("pro").lower() == inversion[1]:
            continue  # complex inversion: the pronoun repeats the question's own subject
        if not _subject_before(core, m.start()):
            return Dependence("subject pronoun")
    for m in _SUBJECT_PRONOUN.finditer(core):
        if impersonal and m.start() >= impersonal.start() - 1 and m.start() <= impersonal.end():
            continue
        if not has_noun_phrase(core[: m.start()]):
            return Dependence("subject pronoun")
    for m in _DEMONSTRATIVE.finditer(core):
        if m.group("noun").lower() not in _TIME_NOUNS and m.group("noun").lower() not in {"que", "qui", "qu"}:
            return Dependence("demonstrative")
    possessive = _POSSESSIVE.search(core)
    if possessive and not own and not has_noun_phrase(core[: possessive.start()]):
        return Dependence("possessive")
    if lowered and lowered[0] in _PREPOSITIONS and len(tokens) <= 5 and not any(
            _INVERSION.fullmatch(t) or _bare(t) in _AUXILIARIES for t in tokens[1:]):
        return Dependence("ellipsis")
    if len(tokens) <= 3 and not has_noun_phrase(core):
        return Dependence("ellipsis" if not lowered or lowered[0] not in _WH_WORDS else "verb without object")
    return None


# --- rewriting ---------------------------------------------------------------------------------------

_NP_END = re.compile(rf"\s(?:a|ont|est|sont|été|était|étaient|sera|seront|fait|font|qui|que|dont|s['’]{W}+|"
                     rf"{W}+(?:-t)?-(?:il|elle|ils|elles|on))\b|-t-|[,;:?!(]", re.IGNORECASE)
_SUBJECT_WH = re.compile(r"^(?:qu['’]est-ce\s+qu[ie'’]\s*|qu['’]est-ce\s+que\s+|quel(?:le)?s?\s+(?:sont|est|étaient|était)\s+|"
                         r"qui\s+(?:est|sont|était)\s+|que\s+devient\s+|que\s+deviennent\s+|"
                         r"(?:(?:à|de|depuis|par|pour)\s+)?(?:quel(?:le)?s?|combien\s+(?:de|d['’]))\s*\S+\s+|qui\s+|que\s+|"
                         r"quoi\s+|quand\s+|où\s+|comment\s+|pourquoi\s+|combien\s+|est-ce\s+que\s+|"
                         r"existe-t-il\s+|y\s+a-t-il\s+)", re.IGNORECASE)
_NAME_RUN = re.compile(r"(?:[A-Z][a-z]?\.(?:-[A-Z]\.)?\s*)*[A-ZÀ-ÖØ-Þ][\w@'’-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w@'’-]*)*")
_DET_START = re.compile(r"\b(?:les|le|la|l['’]|des|du|un|une)\s*(?=\w)", re.IGNORECASE)


def subject_of(question: str) -> str:
    """What a standalone question is about: its first noun phrase (« Quand le comité a-t-il été installé ? »
    → « le comité »), else the name it asks about, else its words once the interrogative ones are removed."""
    body = strip_q(without_time(question))
    rest = _SUBJECT_WH.sub("", body, count=1).strip()
    asked = re.match(r"(quel|quelle|quels|quelles)\s+([\wàâçéèêëîïôûù'’-]+)\s", body, re.IGNORECASE)
    if asked and _bare(asked.group(2)) not in _AUXILIARIES and not (_DET_START.match(rest) or _NAME_RUN.match(rest)):
        # « Quel comité a été installé ? »: the noun of « quel » is the subject.
        det = {"quel": "le", "quelle": "la"}.get(asked.group(1).lower(), "les")
        return _definite(det, asked.group(2)) if det != "les" else f"les {asked.group(2)}"
    name = _NAME_RUN.match(rest)
    if name and (len(name.group().split()) >= 2 or name.group().isupper() or "-" in name.group()):
        return name.group()
    m = _DET_START.search(rest)
    if m:
        phrase = rest[m.start():]
        end = _NP_END.search(phrase, m.end() - m.start())
        phrase = phrase[: end.start()] if end else phrase
        if len(phrase.split()) >= 2 or re.match(r"l['’]\w", phrase, re.IGNORECASE):
            return _lower_first(phrase.strip()) if m.start() == 0 else phrase.strip()
    name = _NAME_RUN.search(rest)
    if name and (len(name.group().split()) >= 2 or name.group().isupper()):
        return name.group()
    return rest


def of(phrase: str) -> str:
    """« de » + a noun phrase, contracted: « du comité », « des pôles », « de l'IHEDN », « d'Alfred Marshall »."""
    m = re.match(r"(le|les)\s+(.*)", phrase, re.IGNORECASE)
    if m:
        return f"{'du' if m.group(1).lower() == 'le' else 'des'} {m.group(2)}"
    if re.match(r"[aeiouyéèêàâîôûh]", phrase, re.IGNORECASE) and not re.match(r"l['’]", phrase, re.IGNORECASE):
        return f"d'{phrase}"
    return f"de {phrase}"


def _lower_first(text: str) -> str:
    first = text.split(maxsplit=1)[0] if text.split() else ""
    keep = (first.isupper() and len(first) > 1 or _is_name(first, False) and "-" in first) \
        and not _INVERSION.fullmatch(first)
    return text if keep else text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _definite(det: str, noun: str) -> str:
    """The definite article replacing a possessive or demonstrative (« son budget » → « le budget »)."""
    if det.lower() in {"ses", "leurs", "ces"}:
        return f"les {noun}"
    if re.match(r"[aeiouyéèêàâîôûh]", noun, re.IGNORECASE):
        return f"l'{noun}"
    return f"{'la' if det.lower() in {'sa', 'cette'} else 'le'} {noun}"


_AVOIR = {"a", "ont", "avait", "avaient", "aura", "auront", "ait"}
_LOCUTION = r"^(?:en\s+(?:œuvre|oeuvre|place|avant|valeur|charge|compte|cause|évidence)|au\s+point|à\s+jour)\b"
# « leur » / « lui » / « y » standing for « à » + something: right after the interrogative words (« Qui leur
# propose… », « Quelle mission lui a été confiée ») or before an infinitive (« Qui peut y contribuer »).
_PLACE = re.compile(r"\b(?:à|au|aux|en)\s+(?:la\s+|l['’]|les\s+)?[A-ZÀ-Þ][\w'’-]*(?:\s+(?:de\s+|du\s+|d['’])?[A-ZÀ-Þ][\w'’-]*)*")


def _indirect_clitic(core: str) -> re.Match | None:
    end = _wh_end(core)
    wh_words = words(core[:end])
    if end and not (wh_words and _bare(wh_words[-1]) in _AUXILIARIES):
        m = re.compile(r"(?P<pro>leur|lui|y)\s+", re.IGNORECASE).match(core, end)
        if m and not (_bare(m.group("pro")) == "y" and re.match(r"a\b|a-t-", core[m.end():])) \
                and not _looks_like_noun(words(core[m.end():]), m.group("pro")):
            return m
    return re.search(r"(?<=\s)(?P<pro>leur|lui|y)\s+(?=[a-zàâçéèêëîïôûù]\w*(?:er|ir|re)\b)", core, re.IGNORECASE)


def _looks_like_noun(after: list[str], pro: str) -> bool:
    """« leur budget » (possessive) rather than « leur propose » (pronoun): a noun and no verb after it."""
    if _bare(pro) != "leur" or not after:
        return False
    return _bare(after[0]) not in _AUXILIARIES and (len(after) == 1 or _bare(after[1]) in _PREPOSITIONS)


def to(phrase: str) -> str:
    """« à » + a noun phrase, contracted: « au comité », « aux PME », « à la Région », « à Jean-Baptiste… »."""
    m = re.match(r"(le|les)\s+(.*)", phrase, re.IGNORECASE)
    if m:
        return f"{'au' if m.group(1).lower() == 'le' else 'aux'} {m.group(2)}"
    return f"à {phrase}"


def _participle_plain(word: str) -> str:
    """The participle without the agreement an object pronoun before it asked for (« nommée » → « nommé »)."""
    for ending, plain in (("ées", "é"), ("ée", "é"), ("és", "é"), ("ues", "u"), ("ue", "u"), ("ies", "i"),
                          ("ie", "i"), ("ises", "is"), ("ise", "is"), ("ites", "it"), ("ite", "it")):
        if word.lower().endswith(ending) and len(word) > len(ending) + 1:
            return word[: -len(ending)] + plain
    return word


def _noun_and_adjectives(tokens: list[str]) -> list[str]:
    """« directeur général » after « son »: the noun and the adjectives that follow it (two at most)."""
    out = tokens[:1]
    for t in tokens[1:3]:
        if _bare(t) in _PREPOSITIONS | _DETERMINERS | _AUXILIARIES | _WH_WORDS or _INVERSION.fullmatch(t) \
                or not t[:1].islower() or _bare(t) in {"et", "ou", "qui", "que", "dont"}:
            break
        out.append(t)
    return out


def _replace_ordinal(previous: str, ordinal: str) -> str | None:
    m = re.search(r"\b(premier|première|deuxième|second|seconde|troisième|quatrième|dernier|dernière|prochain|"
                  r"prochaine|\d+(?:er|e|ème))\b", previous, re.IGNORECASE)
    return previous[: m.start()] + ordinal + previous[m.end():] if m else None


def _replace_phrase(base: str, prep: str, phrase: str) -> str:
    """« …sur les agriculteurs » + « sur les consommateurs » → the new complement in place of the old one."""
    matches = list(re.finditer(rf"\b{re.escape(prep)}\s+", base, re.IGNORECASE))
    if matches and len(words(base[matches[-1].start():])) <= 6:
        return base[: matches[-1].start()] + phrase
    return f"{base} {phrase}"


def rewrite(question: str, previous: str, earlier: list[str] | tuple[str, ...] = ()) -> str:
    """``question`` (which depends on ``previous``, a standalone question) made standalone, in French.
    ``earlier``: the standalone questions before ``previous``, latest first, where a pronoun finds what it stands
    for when nothing in ``previous`` agrees with it. The period of ``previous`` is carried only when the question
    is elliptical (« Et en 2019 ? », « Et sur les consommateurs ? ») — a new question about what a pronoun
    stands for (« Qui la soutient ? ») does not inherit it."""
    question = question.strip()
    q = _CONNECTIVE.sub("", question).strip()
    new_time = time_text(question)
    period = new_time or time_text(previous)
    core = strip_q(without_time(q))
    base = strip_q(without_time(previous))
    subject = subject_of(previous)

    def done(text: str, keep_period: bool = True) -> str:
        text = re.sub(r"\s{2,}", " ", text).strip()
        if keep_period and period and period.lower() not in text.lower():
            text = f"{text} {period}"
        return f"{_upper_first(text)} ?"

    def about(text: str) -> str:  # a new question about the antecedent: only a period the user typed in it
        return done(text, keep_period=bool(new_time))

    def resolve(pronoun: str) -> str:
        """What ``pronoun`` stands for: the agreeing noun phrase of the previous turns, else the subject."""
        turns = [(strip_q(without_time(t)), subject_of(t)) for t in (previous, *earlier)]
        return antecedent(pronoun, turns) or subject

    if not core:  # « Et en 2019 ? »
        return done(base)
    tokens = words(core)
    first = _bare(tokens[0]) if tokens else ""
    has_verb = any(_INVERSION.fullmatch(t) or _bare(t) in _AUXILIARIES for t in tokens)
    # « Et pour les PME ? », « Et sur les consommateurs ? »: the previous question, new complement.
    if first in _PREPOSITIONS and not has_verb and not (set(map(_bare, tokens)) & _WH_WORDS):
        return done(_replace_phrase(base, tokens[0], core))
    # « Et le deuxième ? »
    ordinal = re.fullmatch(r"(?:le|la|les)\s+(\w+(?:ème|ieme|er|ère))", core, re.IGNORECASE)
    if ordinal and (swapped := _replace_ordinal(base, ordinal.group(1))):
        return done(swapped)
    # « Et celui des intercommunalités ? », « Seulement ceux de 2018 ? »: the previous head noun again.
    if re.fullmatch(r"celui|celle|ceux|celles", core, re.IGNORECASE) and new_time:
        return done(base)  # « Seulement ceux de 2018 ? »: the same question for that period
    pronoun = re.match(r"(celui|celle|ceux|celles)\s+(des|du|de|d['’])\s*(.*)", core, re.IGNORECASE)
    if pronoun:  # « Et celui des intercommunalités ? » after « le rôle des chambres consulaires dans… »
        head = re.match(r"(?:les|le|la)\s+\w+|l['’]\w+", subject)
        if head:
            complement = f"{pronoun.group(2)}{'' if pronoun.group(2).endswith(('’', chr(39))) else ' '}{pronoun.group(3)}"
            old_np = re.search(re.escape(head.group()) + r"\s*(?:des|du|de|d['’])\s*.*?(?=\s(?:dans|en|pour|sur|à|au|"
                               r"aux|avec|chez|par|entre)\b|$)", base)
            if old_np:
                return done(base[: old_np.start()] + f"{head.group()} {complement}" + base[old_np.end():])
            return done(f"Qu'en est-il {of(head.group() + ' ' + complement)}")
    # « Et l'État ? », « Et ses trois volets ? »: « Qu'en est-il de … ? » with the reference resolved.
    if re.fullmatch(r"(?:ce|cette|cet)\s+(?:" + "|".join(_TIME_NOUNS) + ")", core, re.IGNORECASE):
        return done(f"{base} {core}")  # « Et cette année ? »
    starts_np = (first in {"le", "la", "les", "un", "une", "son", "sa", "ses", "leur", "leurs"} or re.match(r"l['’]\w", first)
                 or _is_name(tokens[0], first=q == question))
    if not has_verb and starts_np and len(tokens) <= 6:
        possessive = _POSSESSIVE.match(core)
        if possessive:
            return done(f"Qu'en est-il {of(_definite(possessive.group('det'), possessive.group('rest')))} "
                        f"{of(subject)}")
        named = re.fullmatch(r"(?:(?:la|le|les)\s+|l['’])?([A-ZÀ-Þ][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)*)", core)
        if named:  # « Et l'État ? » after « le rôle de la Région » → « le rôle de l'État »
            found = list(re.finditer(r"(?:\b(?:la|le|les)\s+|\bl['’])?(?<!^)\b[A-ZÀ-Þ][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)*",
                                     base))
            found = [f for f in found if f.start() > 0]
            if found:
                last = found[-1]
                return done(base[: last.start()] + core + base[last.end():])
        if first not in {"seulement", "uniquement"}:
            return done(f"Même question pour {core} : {_lower_first(base)}", keep_period=False)
    # Pronouns and possessives replaced by what they stand for.
    end = _wh_end(core)
    clitic = re.match(r"(?P<pro>(?:les|le|la)\b|l['’])\s*(?P<rest>.*)", core[end:], re.IGNORECASE) if end else None
    if clitic and _clitic_after_wh(core):  # « Qui le préside » → « Qui préside le comité »
        rest = words(clitic.group("rest"))
        n_verb = 2 if rest and _bare(rest[0]) in _AUXILIARIES and len(rest) > 1 else 1
        if n_verb == 2 and _bare(rest[0]) in _AVOIR:  # « l'a nommée » → « a nommé Fabienne Buccio »
            rest[1] = _participle_plain(rest[1])
        locution = re.match(_LOCUTION, " ".join(rest[n_verb:]), re.IGNORECASE)
        n_verb += len(locution.group().split()) if locution else 0  # « met en œuvre la feuille de route »
        wh = core[:end].strip().rstrip("'’")
        wh = "que" if wh.lower() == "qu" else wh
        return about(" ".join([wh, *rest[:n_verb], resolve(clitic.group("pro")), *rest[n_verb:]]))
    inverted = next((i for i in _INVERSION.finditer(core) if not _subject_before(core, i.start())), None)
    own = complex_inversion(core)
    if inverted and own and own[0] == "own" and own[1] == inverted.group("pro").lower():
        inverted = None
    indirect = _indirect_clitic(core)
    if indirect and not inverted:
        # « Qui leur propose une formation » → « Qui propose une formation aux PME »; « Qui peut y contribuer » →
        # « Qui peut contribuer au Bulletin… »; « y » first stands for a place of the previous question.
        pro = _bare(indirect.group("pro"))
        place = list(_PLACE.finditer(base)) if pro == "y" else []
        target = place[-1].group() if place else to(resolve(pro))
        return about(f"{core[: indirect.start()]}{core[indirect.end():]} {target}")
    if inverted and not _EN_CLITIC.search(core) and not _Y_CLITIC.search(core) and not _LUI.search(core):
        # « Quand a-t-il été installé » → « Quand le comité a-t-il été installé »; « Est-il dangereux » →
        # « Le glyphosate est-il dangereux ».
        before = core[: inverted.start()].strip()
        subject = resolve(inverted.group("pro"))
        if _bare(before) in {"qu", "que"}:
            # « Qu'a-t-il écrit sur… » → « Qu'a écrit Alfred Marshall sur… » (« que » takes a simple inversion).
            verb, rest = inverted.group("verb"), words(core[inverted.end():])
            n_part = 1 if _bare(verb) in _AUXILIARIES and rest else 0
            tail = " ".join(rest[n_part:])
            elided = "Qu'" if re.match(r"[aeiouyéèêàâîôû]", verb, re.IGNORECASE) else "Que "
            return about(f"{elided}{verb} {' '.join(rest[:n_part])} {subject} {tail}")
        clitics = re.search(r"(?:\s+(?:se|s['’]|ne|n['’]|me|m['’]|te|t['’]|nous|vous))+\s*$", before, re.IGNORECASE)
        if clitics:  # « Où se réunit-il » → « Où le comité se réunit-il »
            head, tail = before[: clitics.start()], before[clitics.start():].strip()
            glue = "" if tail.endswith(("'", "’")) else " "
            return about(f"{head} {subject} {tail}{glue}{core[inverted.start():]}")
        return about(f"{before} {subject} {core[inverted.start():]}" if before else f"{subject} {_lower_first(core)}")
    pronoun = _SUBJECT_PRONOUN.search(core)
    if pronoun and not _IMPERSONAL.search(core) and not _EN_CLITIC.search(core):
        subject = resolve(pronoun.group())
        text = core[: pronoun.start()] + subject + core[pronoun.end():]
        text = re.sub(r"\b(qu|s)['’](?=" + re.escape(subject[:3]) + ")",
                      lambda g: "que " if g.group(1).lower() == "qu" else "si ", text, flags=re.IGNORECASE)
        return about(text)
    possessive = _POSSESSIVE.search(core)
    if possessive and not own and not has_noun_phrase(core[: possessive.start()]):
        noun = " ".join(_noun_and_adjectives(words(core[possessive.start():])[1:]))
        resolved = f"{_definite(possessive.group('det'), noun)} {of(resolve(possessive.group('det')))}"
        after = core[possessive.start():]
        after = after[after.index(noun.split()[-1], len(possessive.group("det"))) + len(noun.split()[-1]):]
        return about(core[: possessive.start()] + resolved + after)
    demonstrative = next((d for d in _DEMONSTRATIVE.finditer(core) if d.group("noun").lower() not in _TIME_NOUNS),
                         None)
    if demonstrative and not re.match(r"derni", demonstrative.group("noun"), re.IGNORECASE):
        resolved = f"{_definite(demonstrative.group('det'), demonstrative.group('noun'))} {of(subject)}"
        return about(core[: demonstrative.start()] + resolved + core[demonstrative.end():])
    dernier = re.search(r"\b(?:ce|cette|ces)\s+derni\w+|\bcelui-ci|\bcelle-ci|\bceux-ci|\bcelles-ci", core, re.IGNORECASE)
    if dernier:
        return about(core[: dernier.start()] + subject + core[dernier.end():])
    if len(tokens) <= 3 and first in {"qui", "que"} and not has_noun_phrase(core) and len(tokens) == 2:
        return done(f"{core} {subject}")  # « Qui finance ? » → « Qui finance les pôles… ? »
    return done(f"À propos {of(subject)} : {_lower_first(q.rstrip(' ?'))}", keep_period=not new_time)
