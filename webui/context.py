"""What every tab of the app shares: the assistant, the settings, the feedback store, and the one path
from the UI to retrieval (``UIContext.session_filters``), where an audience restriction can be added."""
from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator

import gradio as gr

from accounts import AccessError
from accounts.feedback import FeedbackStore, feedback_path
from assistant.answering.answer import Answer
from assistant.conversation.session import Conversation
from assistant.service import Assistant
from veille.config import Settings
from veille.filters import Filters
from webui.auth import request_is_admin, request_user

# (filters chosen in the page, gradio Request or None) -> filters actually applied for this session.
Restriction = Callable[[Filters, object], Filters]


def no_restriction(filters: Filters, request) -> Filters:
    return filters


# Gradio titles its notices « Error », « Warning », « Info » unless told otherwise.
def ui_error(message: str) -> gr.Error:
    return gr.Error(message, title="Erreur")


def ui_warning(message: str) -> None:
    gr.Warning(message, title="Attention")


def ui_info(message: str) -> None:
    gr.Info(message, title="Information")


def field_message(text: str | None) -> str:
    """A message shown beside the field that caused it (Markdown, user input escaped); "" clears it."""
    if not text:
        return ""
    return "<span class='field-error' role='alert'>⚠️ " + html.escape(text, quote=False) + "</span>"


@dataclass
class StreamEvent:
    kind: str  # "status" (waiting message) | "text" (answer so far) | "done" (final Answer)
    text: str = ""
    answer: Answer | None = None


@dataclass
class UIContext:
    assistant: Assistant
    settings: Settings
    feedback: FeedbackStore
    allow_upload: bool = True
    restrict: Restriction = no_restriction
    stream_delay: float = 0.02  # pause between streamed chunks of an extractive answer (visible streaming)
    stream_steps: int = 12
    ingest_lock: threading.Lock = field(default_factory=threading.Lock)
    on_corpus_change: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def create(cls, assistant, settings: Settings | None = None, **options) -> "UIContext":
        settings = settings or assistant.settings
        return cls(assistant=assistant, settings=settings, feedback=FeedbackStore(feedback_path(settings)),
                   **options)

    # --- the single door to retrieval -------------------------------------------------------------
    def session_filters(self, filters: Filters | None, request=None) -> Filters:
        """Every search made by the UI (chat, briefing) passes here with the session's filters."""
        try:
            return self.restrict(filters or Filters(), request)
        except AccessError as exc:  # no/unknown/disabled account: the user sees why, in French
            raise ui_error(str(exc)) from None

    def user(self, request):
        """The account behind a request; None in single-user mode (no restriction)."""
        if not self.restricted:
            return None
        try:
            return request_user(self.settings, request)
        except AccessError as exc:
            raise ui_error(str(exc)) from None

    @property
    def restricted(self) -> bool:
        """True when a login/audience restriction is active (accounts exist)."""
        return self.restrict is not no_restriction

    def is_admin(self, request) -> bool:
        """Admin-only features: the admin account, or anyone when no restriction is active."""
        if not self.restricted:
            return True
        return request_is_admin(self.settings, request)

    def visible(self, request) -> Filters:
        """Only the session's audience (for statistics and filter choices)."""
        allowed = self.session_filters(Filters(), request)
        return replace(Filters(), audience=allowed.audience)

    @property
    def mode_label(self) -> str:
        s = self.settings
        if s.llm_base_url and s.llm_model:
            return f"génératif (modèle {s.llm_model})"
        return "extractif (phrases citées du corpus, sans modèle de langage)"

    def stream_chat(self, conversation: Conversation, question: str, filters: Filters | None,
                    request=None) -> Iterator[StreamEvent]:
        """Answer a chat turn as a stream of events (``Conversation.ask_stream``, the same turn as the CLI's).

        Generative mode: the model's draft as it is written, then the verified answer (which replaces
        the draft). Extractive mode: the answer released progressively in word chunks."""
        filters = self.session_filters(filters, request)
        yield StreamEvent("status", "Recherche dans le corpus…")
        stream = conversation.ask_stream(self.assistant, question, filters)
        if self.assistant.generator is not None:
            draft = ""
            for delta in stream:
                draft += delta
                yield StreamEvent("text", draft)
            yield StreamEvent("done", answer=stream.answer)
            return
        answer = stream.result()
        if not answer.refused:
            for partial in word_chunks(answer.answer, self.stream_steps):
                yield StreamEvent("text", partial)
                if self.stream_delay:
                    time.sleep(self.stream_delay)
        yield StreamEvent("done", answer=answer)


def word_chunks(text: str, steps: int) -> Iterator[str]:
    """Growing prefixes of ``text`` cut at word boundaries, never inside a citation mark ``[n]``."""
    bounds = [m.end() for m in re.finditer(r"\S+", text)]
    if not bounds:
        return
    step = max(1, len(bounds) // max(1, steps))
    for i in range(step - 1, len(bounds), step):
        yield text[:bounds[i]]
    if (len(bounds) - 1) % step != step - 1:
        yield text
