"""The optional language model: any OpenAI-compatible endpoint (vLLM, llama.cpp server, Ollama's /v1,
Mistral, Albert) through llama-index's ``OpenAILike``.

Every failure (connection refused, timeout, HTTP error, unparsable or truncated reply) surfaces as one
exception type, ``LLMError``, carrying a French message: callers fall back to the extractive answer.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from veille.config import Settings


STREAM_MAX_TIMEOUTS = 20  # a streamed answer may last this many VEILLE_LLM_TIMEOUT (20 min at 60 s)


class LLMError(RuntimeError):
    """The endpoint could not give a usable answer; ``str(err)`` is a French explanation."""


@dataclass
class StreamStats:
    first_token_s: float | None = None
    total_s: float = 0.0
    chunks: int = 0
    finished: bool = False  # a finish_reason was received (else the stream was cut)


def short_model_name(name: str) -> str:
    """« smollm2-135m-instruct-q8_0 » for « /modeles/smollm2-135m-instruct-q8_0.gguf » (llama.cpp's ids are
    file paths); other names as they are."""
    base = name.rstrip("/").rsplit("/", 1)[-1] if name.startswith(("/", ".")) or name.endswith(".gguf") else name
    return base.removesuffix(".gguf") or name


def llm_configured(settings: Settings) -> bool:
    return bool(settings.llm_base_url and settings.llm_model)


def _explain(exc: Exception) -> str:
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "le modèle de langage n'a pas répondu à temps"
    if _connection_cut(exc):
        return "réponse du modèle de langage interrompue (connexion coupée en cours de réponse)"
    if isinstance(exc, openai.APIConnectionError):
        return "le modèle de langage est injoignable"
    if isinstance(exc, openai.AuthenticationError):
        return "clé d'accès au modèle de langage refusée (VEILLE_LLM_API_KEY)"
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code == 404:
            return ("le modèle de langage a répondu par une erreur HTTP 404 (adresse inconnue : "
                    "VEILLE_LLM_BASE_URL se termine en général par /v1)")
        return f"le modèle de langage a répondu par une erreur HTTP {exc.status_code}"
    return "réponse illisible du modèle de langage"


def _connection_cut(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what caused it) is the server closing the connection mid-reply."""
    import httpx

    while exc is not None:
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


DEFAULT_CONTEXT = 8192  # tokens, when neither the server nor VEILLE_LLM_CONTEXT says
ANSWER_TOKENS = 700  # asked back for an answer, at most a quarter of the context
CHARS_PER_TOKEN = 3.0  # French text in a BPE vocabulary, rounded down: an estimate that errs on the long side
# Where servers count tokens, and the body field holding the text: llama.cpp, then llama-cpp-python.
TOKENIZE_ROUTES = [("/tokenize", "content"), ("/extras/tokenize", "input")]


@dataclass
class LLMClient:
    settings: Settings
    context_window: int = DEFAULT_CONTEXT
    max_tokens: int = ANSWER_TOKENS
    temperature: float = 0.1
    last_stats: StreamStats = field(default_factory=StreamStats)

    def __post_init__(self) -> None:
        if not llm_configured(self.settings):
            raise LLMError("aucun modèle de langage configuré (VEILLE_LLM_BASE_URL et VEILLE_LLM_MODEL)")
        if not (self.settings.llm_api_key or "").isascii():
            raise LLMError("la clé VEILLE_LLM_API_KEY contient des caractères non ASCII (clé mal copiée ?)")
        import httpx
        import openai
        from llama_index.llms.openai_like import OpenAILike

        timeout = float(self.settings.llm_timeout)
        # Retries happen once, in the openai client (it retries connection errors, timeouts, 429 and 5xx,
        # streaming included). llama-index's own retry layer would multiply them: it gets max_retries=0.
        client = openai.OpenAI(base_url=self.settings.llm_base_url, api_key=self.settings.llm_api_key or "none",
                               timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                               max_retries=int(self.settings.llm_retries))
        self._http = httpx.Client(timeout=httpx.Timeout(min(timeout, 10.0)),
                                  headers={"Authorization": f"Bearer {self.settings.llm_api_key or 'none'}"})
        self.model_id, listed_context = self._checked_model(client)
        self.context_window = (self.settings.llm_context or listed_context or self._props_context()
                               or DEFAULT_CONTEXT)
        self.max_tokens = min(ANSWER_TOKENS, self.context_window // 4)
        self._tokenize_routes: list[tuple[str, str]] | None = None  # None: not tried yet
        self.llm = OpenAILike(model=self.model_id, api_base=self.settings.llm_base_url,
                              api_key=self.settings.llm_api_key or "none", is_chat_model=True,
                              context_window=self.context_window, max_tokens=self.max_tokens,
                              temperature=self.temperature, timeout=timeout, max_retries=0,
                              openai_client=client)

    @property
    def model(self) -> str:
        return self.settings.llm_model or ""

    @property
    def _root(self) -> str:
        """The server's root, where llama.cpp serves /props and /tokenize (the base URL without /v1)."""
        return (self.settings.llm_base_url or "").rstrip("/").removesuffix("/v1")

    def _checked_model(self, client) -> tuple[str, int | None]:
        """The server's id of the configured model, checked against the models it lists (``/v1/models``), and
        the context it declares there (vLLM's ``max_model_len``): a name it does not offer is a French error
        naming those it does. llama.cpp lists its model as a file path and answers to any name: the configured
        name may be that path's short form. A server that lists nothing (404) is taken at its word."""
        import openai

        wanted = self.settings.llm_model or ""
        try:
            models = list(client.models.list())
        except openai.NotFoundError:
            return wanted, None
        except Exception as exc:  # noqa: BLE001 - unreachable, refused key …: said as for any call
            raise LLMError(_explain(exc)) from exc
        offered = [m.id for m in models]
        contexts = {m.id: (m.model_extra or {}).get("max_model_len") for m in models}
        if not offered or wanted in offered:
            return wanted, contexts.get(wanted)
        by_short = {short_model_name(m).casefold(): m for m in offered}
        if short_model_name(wanted).casefold() in by_short:
            found = by_short[short_model_name(wanted).casefold()]
            return found, contexts.get(found)
        names = ", ".join(f"« {short_model_name(m)} »" for m in offered[:20])
        if len(offered) > 20:
            names += f" et {len(offered) - 20} autres"
        raise LLMError(f"modèle « {wanted} » inconnu du serveur ; il propose {names} (réglage VEILLE_LLM_MODEL)")

    def _props_context(self) -> int | None:
        """The context llama.cpp's server runs with (``/props``), or None where there is no such page."""
        try:
            props = self._http.get(f"{self._root}/props").json()
            settings = props.get("default_generation_settings") or {}
            value = settings.get("n_ctx") or props.get("n_ctx")
            return int(value) if value else None
        except Exception:  # noqa: BLE001 - not llama.cpp, or an older one: the setting or the default
            return None

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` for this model: the server's own count where it has one (llama.cpp's ``/tokenize``,
        llama-cpp-python's ``/extras/tokenize``), else an estimate that errs on the long side."""
        for path, field in TOKENIZE_ROUTES if self._tokenize_routes is None else self._tokenize_routes:
            try:
                reply = self._http.post(f"{self._root}{path}", json={field: text, "model": self.model_id})
                reply.raise_for_status()
                tokens = reply.json()["tokens"]
                self._tokenize_routes = [(path, field)]
                return len(tokens)
            except Exception:  # noqa: BLE001 - not this server's route: the next, then the estimate
                continue
        self._tokenize_routes = []  # none answers: estimated from now on
        return int(len(text) / CHARS_PER_TOKEN) + 1

    def prompt_room(self) -> int:
        """Tokens a prompt may take: the context less the answer asked back and the chat template's margin."""
        return self.context_window - self.max_tokens - 64

    @staticmethod
    def _messages(system: str | None, user: str):
        from llama_index.core.llms import ChatMessage

        msgs = [ChatMessage(role="system", content=system)] if system else []
        return msgs + [ChatMessage(role="user", content=user)]

    def complete(self, system: str | None, user: str, max_tokens: int | None = None,
                 stop: list[str] | None = None) -> str:
        """One non-streaming chat completion; raises LLMError on any failure or empty/cut reply. ``max_tokens``
        and ``stop`` bound a short reply (a rewritten question is one line: no need to let the model ramble)."""
        t0 = time.perf_counter()
        # llama-index lets its own max_tokens win over a call's: a bounded call goes through a copy.
        llm = self.llm.model_copy(update={"max_tokens": max_tokens}) if max_tokens else self.llm
        try:
            response = llm.chat(self._messages(system, user), **({"stop": stop} if stop else {}))
            text = response.message.content
            raw = response.raw
            finish = raw.choices[0].finish_reason if getattr(raw, "choices", None) else None
        except LLMError:
            raise
        except Exception as exc:  # any failure of a remote service becomes a fallback, never a traceback
            raise LLMError(_explain(exc)) from exc
        self.last_stats = StreamStats(first_token_s=time.perf_counter() - t0, total_s=time.perf_counter() - t0,
                                      chunks=1, finished=finish is not None)
        if not isinstance(text, str) or not text.strip():
            raise LLMError("réponse vide du modèle de langage")
        if finish == "length":
            raise LLMError("réponse du modèle de langage coupée (limite de longueur)")
        return text

    def stream(self, system: str | None, user: str) -> Iterator[str]:
        """Yield text deltas as they arrive; raises LLMError when the stream fails or stops without
        a finish_reason (a cut connection is not a complete answer)."""
        stats = self.last_stats = StreamStats()
        t0 = time.perf_counter()
        # Alive while the server sends anything (httpx's read timeout sees its keep-alive comments during a long
        # prompt); a stream trickling for ever still ends some day.
        deadline = t0 + STREAM_MAX_TIMEOUTS * float(self.settings.llm_timeout)
        finish = None
        try:
            for chunk in self.llm.stream_chat(self._messages(system, user)):
                raw = chunk.raw
                if getattr(raw, "choices", None):
                    finish = raw.choices[0].finish_reason or finish
                delta = chunk.delta or ""
                if delta:
                    if stats.first_token_s is None:
                        stats.first_token_s = time.perf_counter() - t0
                    stats.chunks += 1
                    yield delta
                if time.perf_counter() > deadline:
                    raise LLMError("le modèle de langage n'a pas fini sa réponse à temps")
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(_explain(exc)) from exc
        finally:
            stats.total_s = time.perf_counter() - t0
        stats.finished = finish is not None
        if finish is None:
            raise LLMError("réponse du modèle de langage interrompue avant la fin")
        if finish == "length":
            raise LLMError("réponse du modèle de langage coupée (limite de longueur)")
