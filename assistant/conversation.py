"""Conversation state: a plain object the CLI (`veille chat`) and the Gradio app share.

Follow-up questions ("Et en 2018 ?", "Qui le préside ?") are rewritten into standalone questions
before retrieval: with the language model when one is configured, otherwise by carrying over the
previous turn's subject and filters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answer import Answer
from assistant.filters import Filters

_FOLLOW_UP = re.compile(
    r"^(et|mais|alors|puis|ensuite|aussi|qui le|qui la|qui les|donne|donnez|montre|montrez|quelles? sources|"
    r"pourquoi|comment ça|et pour|et en|et dans|et depuis)\b|\b(il|elle|ils|elles|le|la|les|lui|leur|ses|son|sa|"
    r"ce dernier|cette dernière|celui-ci|celle-ci|ceux-ci)\s*\?*$", re.IGNORECASE)


@dataclass
class Turn:
    question: str
    standalone: str
    answer: Answer


@dataclass
class Conversation:
    turns: list[Turn] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)

    @property
    def last(self) -> Turn | None:
        return self.turns[-1] if self.turns else None

    def reset(self) -> None:
        self.turns.clear()
        self.filters = Filters()

    def is_follow_up(self, question: str) -> bool:
        return bool(self.turns) and (len(question.split()) <= 6 or bool(_FOLLOW_UP.search(question.strip())))

    def condense_without_llm(self, question: str) -> str:
        """Carry the previous standalone question's subject into a short follow-up."""
        if not self.is_follow_up(question):
            return question
        return f"{question.rstrip(' ?')} ({self.last.standalone.rstrip(' ?')}) ?"

    def record(self, question: str, standalone: str, answer: Answer) -> None:
        self.turns.append(Turn(question, standalone, answer))
