"""Conversation state: a plain object the CLI (`veille chat`) and the Gradio app share.

A question is first judged: does it depend on the previous turn (``assistant.conversation.followup.depends_on_previous``:
« Et en 2018 ? », « Qui le préside ? »)? Only then is it rewritten into a standalone question before
retrieval: with the language model's condense prompt when one is configured (falling back to the rules if
it fails), otherwise by rules (``assistant.conversation.followup.rewrite``). A question with its own subject is searched
as typed. A time expression in the follow-up replaces the period. "Donne-moi les sources" shows the previous
answer's sources again without a new search.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from assistant.answering.answer import Answer
from assistant.conversation.antecedent import preload_morphology
from assistant.conversation.followup import depends_on_previous, rewrite
from assistant.generation.generate import ready_stream
from assistant.generation.llm import LLMError
from assistant.generation.prompts import render
from assistant.search.timefilter import parse_time_expression
from veille.filters import Filters, source_label

_CONNECTIVE = re.compile(r"^(?:et|mais|alors|puis|ensuite|aussi|sinon|ok|d'accord)\b[\s,]*", re.IGNORECASE)
_SOURCES = re.compile(
    r"^(?:(?:donne|donnez|montre|montrez|affiche|affichez|redonne|cite|citez|rappelle|indique)[\s-]*"
    r"(?:moi|nous)?\s*(?:les|tes|vos|ses)?\s*sources|(?:quelles?\s+sont\s+)?(?:les|tes|vos)\s+sources|sources?"
    r"|d['’]où\s+(?:vient|viennent)\s+(?:cette|ces|ta|ton|tes|votre|vos)\s+(?:information|réponse|affirmation|chiffre)s?"
    r"|sur quoi (?:te|vous) (?:bases|basez)-(?:tu|vous).*)\s*[?.!]*$",
    re.IGNORECASE)


def is_sources_request(question: str) -> bool:
    return bool(_SOURCES.match(_CONNECTIVE.sub("", question.strip())))


@dataclass
class Turn:
    question: str
    standalone: str
    answer: Answer


CONDENSE_MAX_TOKENS = 96  # a standalone question of 60 words at most, in French BPE tokens


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)  # chosen by the user; carried over every turn
    max_history: int = 3  # turns shown to the condense prompt
    # Turns kept (None: all). A server holds every open conversation, and redraws all of it at each answer: a
    # session asking without end would grow the memory and the work of each answer without bound.
    max_turns: int | None = None
    dropped: int = 0  # oldest turns let go to stay within ``max_turns``

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def reset(self) -> None:
        self.turns.clear()
        self.filters = Filters()
        self.dropped = 0

    def is_follow_up(self, question: str) -> bool:
        """True when ``question`` needs the previous turn to be understood (see ``depends_on_previous``)."""
        return bool(self.turns) and depends_on_previous(question, self.last.standalone) is not None

    # -- rewriting ---------------------------------------------------------------------------------
    def condense_without_llm(self, question: str) -> str:
        """Standalone question by rules; a question that stands alone is returned as typed."""
        question = question.strip()
        if not self.is_follow_up(question):
            return question
        # the turns before the last one, latest first: where a pronoun looks when nothing in the last agrees
        earlier = [t.standalone for t in reversed(self.turns[-1 - self.max_history:-1])]
        return rewrite(question, self.last.standalone, earlier)

    def condense_with_llm(self, question: str, generator) -> str | None:
        """Standalone question from the condense prompt, or None when the model fails or rambles."""
        history = "\n".join(f"Utilisateur : {t.standalone}\nVeille : {t.answer.answer[:400]}"
                            for t in self.turns[-self.max_history:])
        try:
            # One line is asked for: a few dozen tokens and a stop at the line end (not the answer's 700).
            text = generator.llm.complete(None, render("condense", history=history, question=question),
                                          max_tokens=CONDENSE_MAX_TOKENS, stop=["\n"])
        except LLMError:
            return None
        line = next((l for l in text.strip().splitlines() if l.strip()), "").strip().strip("«»\"' ")
        if not line or len(line) > 4 * len(question) + 300:
            return None
        return line

    def standalone(self, question: str, generator=None) -> str:
        if not self.is_follow_up(question):  # its own subject: searched as typed, no model call
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
            lines.append(f"[{c.n}] {c.title or source_label(c.source)} ({meta})" + (f" — {c.url}" if c.url else ""))
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
        asked = self.filters_for(question)
        out = assistant.ask_stream(standalone, asked, stream=stream)
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
        if len(self.turns) == 1:
            preload_morphology()  # what a pronoun stands for needs it from the next turn on
        if self.max_turns is not None and len(self.turns) > self.max_turns:
            excess = len(self.turns) - self.max_turns
            del self.turns[:excess]
            self.dropped += excess
