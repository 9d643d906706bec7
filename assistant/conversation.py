"""Conversation state: a plain object the CLI (`veille chat`) and the Gradio app share.

Follow-up questions ("Et en 2018 ?", "Qui le préside ?") are rewritten into standalone questions
before retrieval: with the language model's condense prompt when one is configured (falling back to
the rules if it fails), otherwise by rules that carry over the previous turn's subject, named entities
and period. A time expression in the follow-up replaces the period. "Donne-moi les sources" shows the
previous answer's sources again without a new search.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.answer import Answer
from assistant.generate import ready_stream
from assistant.llm import LLMError
from assistant.prompts import render
from assistant.timefilter import _PATTERNS as _TIME_PATTERNS  # the lead's regexes: one grammar of periods
from assistant.timefilter import parse_time_expression
from veille.filters import Filters

_CONNECTIVE = re.compile(r"^(?:et|mais|alors|puis|ensuite|aussi|sinon|ok|d'accord)\b[\s,]*", re.IGNORECASE)
_PRONOUN_AFTER_WH = re.compile(
    r"^(?P<wh>qui|que|qu['’]|quand|comment|pourquoi|où|combien|est-ce qu['’]on|est-ce que)\s*"
    r"(?P<pro>les|le|la|l['’]|lui|leur|en|y)\b\s*(?=\w)", re.IGNORECASE)
_ANAPHORA = re.compile(
    r"\b(?:il|elle|ils|elles|celui-ci|celle-ci|ceux-ci|celles-ci|ce dernier|cette dernière|ces derniers|"
    r"ce dispositif|cette structure|cet organisme|ce comité|ce programme|cette initiative|y|en)\b"
    r"|^(?:qui|que|quand|comment|pourquoi|où|combien)\s+(?:le|la|les|l['’]|lui|leur)\b", re.IGNORECASE)
_SOURCES = re.compile(
    r"^(?:(?:donne|donnez|montre|montrez|affiche|affichez|redonne|cite|citez|rappelle|indique)[\s-]*"
    r"(?:moi|nous)?\s*(?:les|tes|vos|ses)?\s*sources|(?:quelles?\s+sont\s+)?(?:les|tes|vos)\s+sources|sources?"
    r"|d['’]où\s+(?:vient|viennent).*|sur quoi (?:te|vous) (?:bases|basez)-(?:tu|vous).*)\s*[?.!]*$",
    re.IGNORECASE)
_WH = re.compile(r"^(?:qu['’]est-ce\s+qu[ie']\s*|quel(?:le)?s?\s+(?:sont|est|étaient|était)\s+|quel(?:le)?s?\s+|"
                 r"qui\s+|que\s+|quoi\s+|quand\s+|où\s+|comment\s+|pourquoi\s+|combien\s+(?:de\s+|d['’])?|"
                 r"est-ce\s+que\s+|existe-t-il\s+|y\s+a-t-il\s+)", re.IGNORECASE)
_DETERMINER = re.compile(r"\b(?:les|le|la|l['’]|des|du|un|une|ce|cette|ces)\s*(?=\w)", re.IGNORECASE)
# Where a noun phrase ends: a verb form, a relative pronoun or punctuation.
_PHRASE_END = re.compile(r"\s(?:a|ont|est|sont|été|était|étaient|sera|seront|a-t-|ont-|est-|fait|qui|que|dont)\b|"
                         r"-t-|[,;:?!(]", re.IGNORECASE)
_ENTITY = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w@'’-]*[A-ZÀ-ÖØ-Þ0-9@][\w@'’-]*\b|(?<!^)(?<![.?!]\s)\b[A-ZÀ-ÖØ-Þ][a-zà-ÿ]+\b")


_PREPOSITION = re.compile(r"^(?:pour|dans|en|à|au|aux|chez|sur|concernant|côté|du côté)\b", re.IGNORECASE)
_AUXILIARIES = {"a", "ont", "avait", "avaient", "est", "sont", "était", "étaient", "va", "vont", "peut", "peuvent",
                "doit", "doivent", "aura", "auront"}
# "Quand a-t-il …", "Quel âge a-t-il", "À combien de structures est-il envoyé": the subject goes before
# the inverted verb ("Quel âge Jean-Baptiste Carpentier a-t-il"), which is how French writes it.
_INVERTED = re.compile(r"^(?P<wh>(?:(?:à|de|depuis|par|pour|avec|dans|en|sur)\s+)?(?:qui|que|quand|comment|pourquoi|"
                       r"où|combien|quel\w*)(?:\s+[\wàâéèêëîïôûùç'’]+){0,3}?)\s+"
                       r"(?P<v>(?:[smt]['’])?[\wàâéèêëîïôûùç]+(?:-t)?-(?:il|elle|ils|elles))\b", re.IGNORECASE)
# A name a question is about when no determiner introduces it: "Jean-Baptiste Carpentier", "M. Carpentier",
# "IHEDN" (one capitalised common word such as "Pôle" is not enough).
_NAME_RUN = re.compile(r"(?:[A-Z][a-z]?\.(?:-[A-Z]\.)?\s*)*[A-ZÀ-ÖØ-Þ][\w@'’-]*(?:\s+[A-ZÀ-ÖØ-Þ][\w@'’-]*)*")


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
    return re.sub(r"\s{2,}", " ", (text[: span[0]] + text[span[1]:])).replace(" ?", " ?").strip()


def time_text(text: str) -> str:
    span = time_span(text)
    return text[span[0]: span[1]].strip() if span else ""


def _strip_q(text: str) -> str:
    return text.strip().rstrip(" ?.!").strip()


def subject_of(question: str) -> str:
    """The main noun phrase of a standalone question ("Quand le comité a-t-il été installé ?" ->
    "le comité"), else the name it is about, else what is left once the interrogative words are removed."""
    body = _strip_q(without_time(question))
    rest = _WH.sub("", body, count=1).strip()
    m = _DETERMINER.search(rest)
    if m:
        phrase = rest[m.start():]
        end = _PHRASE_END.search(phrase, m.end() - m.start())
        phrase = phrase[: end.start()] if end else phrase
        if len(phrase.split()) >= 2 or re.match(r"l['’]\w", phrase, re.IGNORECASE):  # "l'IHEDN"
            return phrase.strip()
    name = _NAME_RUN.search(rest) if rest != body else None  # "Qui est Jean-Baptiste Carpentier"
    if name and (len(name.group().split()) >= 2 or name.group().isupper()):
        return name.group()
    return rest


def _names_subject(words: str) -> bool:
    """Interrogative words that already hold a subject ("Quel budget la Région"), not just "Quel âge"."""
    rest = (words.split(maxsplit=1) + [""])[1]
    return bool(_DETERMINER.search(rest) or re.search(r"\b[A-ZÀ-ÖØ-Þ]", rest))


def entities_of(text: str) -> list[str]:
    return list(dict.fromkeys(m.group() for m in _ENTITY.finditer(text)))


def is_sources_request(question: str) -> bool:
    return bool(_SOURCES.match(_CONNECTIVE.sub("", question.strip())))


@dataclass
class Turn:
    question: str
    standalone: str
    answer: Answer


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)  # chosen by the user; carried over every turn
    max_history: int = 3  # turns shown to the condense prompt

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def reset(self) -> None:
        self.turns.clear()
        self.filters = Filters()

    def is_follow_up(self, question: str) -> bool:
        if not self.turns:
            return False
        q = question.strip()
        core = _strip_q(without_time(_CONNECTIVE.sub("", q)))
        return (bool(_CONNECTIVE.match(q)) or bool(_ANAPHORA.search(q)) or len(core.split()) <= 3
                or (time_span(q) is not None and len(core.split()) <= 4))

    # -- rewriting ---------------------------------------------------------------------------------
    def condense_without_llm(self, question: str) -> str:
        """Standalone question by rules: ellipses take the previous question, pronouns its subject."""
        question = question.strip()
        if not self.is_follow_up(question):
            return question
        previous = self.last.standalone
        new_time = time_text(question)
        period = new_time or time_text(previous)
        core = _strip_q(without_time(_CONNECTIVE.sub("", question)))
        if not core or (len(core.split()) <= 3 and not _WH.match(core + " ")):
            # Ellipsis ("Et en 2018 ?", "Et pour la Bretagne ?"): the previous question, new complement.
            base = _strip_q(without_time(previous))
            extra = ""
            if core:
                extra = f" {core}" if _PREPOSITION.match(core) else f" (et {core})"
            return f"{base}{extra}{' ' + period if period else ''} ?"
        subject = subject_of(previous)
        m = _PRONOUN_AFTER_WH.match(core)
        inverted = _INVERTED.match(core)
        if m:  # "Qui le préside" -> "Qui préside le comité stratégique"; "Qui l'a co-présidé" -> "Qui a co-présidé …"
            words = core[m.end():].split()
            n_verb = 2 if words and words[0].lower() in _AUXILIARIES and len(words) > 1 else 1
            core = " ".join([m.group("wh").rstrip("'’"), *words[:n_verb], subject, *words[n_verb:]])
        elif inverted:
            # "Quand a-t-il été installé" -> "Quand le comité a-t-il été installé"; "Quel budget la Région
            # a-t-elle voté" already has its subject.
            if not _names_subject(inverted.group("wh")):
                core = f"{inverted.group('wh')} {subject} {core[inverted.start('v'):]}"
        elif _ANAPHORA.search(core):
            core = re.sub(r"\b(?:il|elle|ils|elles|celui-ci|celle-ci|ce dernier|cette dernière)\b", subject, core,
                          count=1, flags=re.IGNORECASE)
            if subject.lower() not in core.lower():
                core = f"{core} ({subject})"
        else:
            core = f"{core} ({subject})"
        missing = [e for e in entities_of(previous) if e.lower() not in core.lower()][:3]
        if missing:
            core += f" ({', '.join(missing)})"
        core = core[:1].upper() + core[1:]
        return f"{core}{' ' + period if period and period.lower() not in core.lower() else ''} ?"

    def condense_with_llm(self, question: str, generator) -> str | None:
        """Standalone question from the condense prompt, or None when the model fails or rambles."""
        history = "\n".join(f"Utilisateur : {t.standalone}\nVeille : {t.answer.answer[:400]}"
                            for t in self.turns[-self.max_history:])
        try:
            text = generator.llm.complete(None, render("condense", history=history, question=question))
        except LLMError:
            return None
        line = next((l for l in text.strip().splitlines() if l.strip()), "").strip().strip("«»\"' ")
        if not line or len(line) > 4 * len(question) + 300:
            return None
        return line

    def standalone(self, question: str, generator=None) -> str:
        if not self.turns:
            return question
        if generator is not None:
            rewritten = self.condense_with_llm(question, generator)
            if rewritten:
                return rewritten
        return self.condense_without_llm(question)

    def filters_for(self, question: str) -> Filters:
        """The user's filters, with the period replaced when the follow-up names a new one."""
        found = parse_time_expression(question)
        if found and (self.filters.date_from or self.filters.date_to):
            return replace(self.filters, date_from=found.date_from, date_to=found.date_to)
        return self.filters

    # -- turns ---------------------------------------------------------------------------------------
    def sources_answer(self, question: str) -> Answer:
        last = next((t for t in reversed(self.turns) if t.answer.citations), None)
        if last is None:
            return Answer(question=question, answer="Aucune source à montrer : la réponse précédente n'en citait "
                          "aucune (posez d'abord une question).", refused=True)
        lines = [f"Sources de la réponse à « {last.question} » :"]
        for c in last.answer.citations:
            meta = ", ".join(x for x in (c.doc_type, c.date or "") if x)
            lines.append(f"[{c.n}] {c.title or c.source} ({meta}) — {c.url or c.source}")
        return Answer(question=question, answer="\n".join(lines), refused=False, citations=last.answer.citations,
                      mode=last.answer.mode, filters=last.answer.filters)

    def ask_stream(self, assistant, question: str, filters: Filters | None = None, stream: bool = True):
        """One turn: rewrite, answer (an AnswerStream), and record the turn once the answer is final."""
        question = (question or "").strip()
        if filters is not None:
            self.filters = filters
        if self.turns and is_sources_request(question):
            answer = self.sources_answer(question)
            out = ready_stream(answer)
            out.on_done.append(self._recorder(question, self.last.standalone))
            return out
        standalone = self.standalone(question, assistant.generator)
        out = assistant.ask_stream(standalone, self.filters_for(question), stream=stream)
        out.on_done.append(self._recorder(question, standalone))
        return out

    def ask(self, assistant, question: str, filters: Filters | None = None) -> Answer:
        return self.ask_stream(assistant, question, filters, stream=False).result()

    def _recorder(self, question: str, standalone: str):
        def record(answer: Answer) -> Answer:
            answer.question = question
            answer.standalone_question = standalone if standalone != question else None
            self.record(question, standalone, answer)
            return answer
        return record

    def record(self, question: str, standalone: str, answer: Answer) -> None:
        self.turns.append(Turn(question, standalone, answer))
