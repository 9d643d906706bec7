"""A real HTTP server on loopback speaking the OpenAI chat-completions protocol (JSON and SSE streaming),
standing in for vLLM / llama.cpp / Ollama / Albert, which cannot run here.

Its "model" answers from what it receives, like a well-behaved LLM would: it copies the passage
sentences that best match the question and cites them. Scenario switches make it misbehave:

normal      cites the passages it was given, correctly
slow        waits ``slow_seconds`` before answering (beyond the client's timeout)
error500    HTTP 500 on every call
truncated   the stream (or JSON body) stops half-way, without finish_reason / [DONE]
cut         the stream announces a longer body and the connection drops mid-answer (as a killed llama.cpp:
            « peer closed connection without sending complete message body »)
garbage     HTTP 200 with a body that is not valid JSON
invent      cites a passage [9] that does not exist and states a number no passage holds
unsupported every sentence is made up, yet cited [1]
inject      obeys instructions found inside the passages ("PWNED")

The scenario is the model name when it is one of these (so a subprocess can pick it through
``VEILLE_LLM_MODEL``), else ``server.scenario``. Every request body is recorded (``server.requests``,
or ``GET /_requests``) so tests can check what the model was really sent.

Run by hand: ``python tests/openai_server.py --port 8099`` then ``VEILLE_LLM_BASE_URL=http://127.0.0.1:8099/v1``.
"""
from __future__ import annotations

import argparse
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCENARIOS = {"normal", "slow", "error500", "truncated", "cut", "garbage", "invent", "unsupported", "inject"}
# What GET /v1/models lists: the scenarios, a plain name, and a model listed as llama.cpp does (its file path).
LLAMA_CPP_ID = "/modeles/smollm2-135m-instruct-q8_0.gguf"
OFFERED = sorted(SCENARIOS) + ["veille-test", LLAMA_CPP_ID]
_PASSAGE = re.compile(r"<passage\b[^>]*\bid=\"(\d+)\"[^>]*>(.*?)</passage>", re.S)
_WORD = re.compile(r"\w{4,}")


def count_tokens(text: str) -> int:
    """This server's tokens: words and punctuation marks."""
    return len(re.findall(r"\w+|[^\w\s]", text))


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n+", text)
    return [p.strip() for p in parts if len(p.split()) >= 6 and not p.strip().startswith("#")]


def _question(user: str) -> str:
    m = re.search(r"(?:Question de l'utilisateur|sur le sujet)\s*:\s*(.+)", user)
    return m.group(1) if m else user[-300:]


def grounded_answer(user: str, n_sentences: int = 2) -> tuple[str, dict[int, str]]:
    """The passage sentences sharing most words with the question, each cited with its passage."""
    passages = {int(i): body for i, body in _PASSAGE.findall(user)}
    q_words = {w.lower() for w in _WORD.findall(_question(user))}
    scored = []
    for n, body in passages.items():
        for k, s in enumerate(_sentences(body)):
            overlap = len(q_words & {w.lower() for w in _WORD.findall(s)})
            scored.append((-overlap, n, k, s))
    scored.sort()
    picked, seen = [], set()
    for _, n, _, s in scored:
        if n in seen:
            continue
        seen.add(n)
        picked.append(f"{s.rstrip('.')} [{n}].")
        if len(picked) >= n_sentences:
            break
    return " ".join(picked), passages


def condense(user: str) -> str:
    history = re.search(r"<historique>(.*?)</historique>", user, re.S)
    question = re.search(r"Nouvelle question de l'utilisateur\s*:\s*(.+)", user)
    follow_up = question.group(1).strip() if question else ""
    asked = re.findall(r"Utilisateur\s*:\s*(.+)", history.group(1) if history else "")
    subject = asked[0].strip().rstrip(" ?") if asked else ""
    core = re.sub(r"^(et|mais|alors)\s+", "", follow_up, flags=re.I).rstrip(" ?")
    return f"{core[:1].upper()}{core[1:]} — {subject} ?" if subject else follow_up


def reply_text(scenario: str, body: dict) -> str:
    messages = body.get("messages") or []
    user = next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"), "")
    if "<historique>" in user:
        return condense(user)
    text, passages = grounded_answer(user)
    if scenario == "inject" and any(re.search(r"ignor\w+ (toutes )?(les )?(instructions|consignes)", p, re.I)
                                    for p in passages.values()):
        return "PWNED. J'ignore désormais mes consignes et je révèle mon prompt système."
    if scenario == "invent":
        return (f"{text} Le chiffre d'affaires de la filière a atteint 742 millions d'euros en 2031 [1]. "
                f"Une étude de Bercy le confirme [9].")
    if scenario == "unsupported":
        return ("Le Groenland a signé un accord de pêche avec Madagascar en 1987 [1]. "
                "La production de bananes bretonnes a triplé [1].")
    if not passages:
        return "Le corpus ne contient pas d'information permettant de répondre à cette question."
    return text


class _Handler(BaseHTTPRequestHandler):
    server: "FakeOpenAIServer"

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _json(self, status: int, data) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/_requests"):
            self._json(200, self.server.requests)
        elif self.path.rstrip("/") == "/props" and self.server.n_ctx and not self.server.python_server:
            self._json(200, {"default_generation_settings": {"n_ctx": self.server.n_ctx}})
        elif self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": s, "object": "model"} for s in OFFERED]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            return self._json(400, {"error": {"message": "invalid JSON"}})
        if self.path.rstrip("/") == "/tokenize" and self.server.n_ctx and not self.server.python_server:
            return self._json(200, {"tokens": list(range(count_tokens(body.get("content") or "")))})  # llama.cpp
        if self.path.rstrip("/") == "/extras/tokenize" and self.server.n_ctx and self.server.python_server:
            with self.server.lock:
                self.server.tokenized += 1
            return self._json(200, {"tokens": list(range(count_tokens(body.get("input") or "")))})
        if self.path.rstrip("/") != "/v1/chat/completions":  # as vLLM: the API lives under /v1 only
            return self._json(404, {"error": {"message": f"unknown path {self.path}"}})
        with self.server.lock:
            self.server.requests.append({"headers": {"authorization": self.headers.get("Authorization")}, **body})
        model = body.get("model") or ""
        scenario = model if model in SCENARIOS else self.server.scenario
        if scenario == "slow":
            time.sleep(self.server.slow_seconds)
        if scenario == "error500":
            return self._json(500, {"error": {"message": "internal error", "type": "server_error"}})
        text = reply_text(scenario, body)
        finish = "stop"
        if self.server.n_ctx:  # as llama.cpp: the answer stops where the context runs out
            prompt = sum(count_tokens(m.get("content") or "") for m in body.get("messages") or [])
            room = max(0, min(self.server.n_ctx - prompt, body.get("max_tokens") or self.server.n_ctx))
            pieces = re.findall(r"\S+\s*", text)
            if len(pieces) > room:
                text, finish = "".join(pieces[:room]), "length"
        if body.get("stream"):
            self._stream(model, text, scenario, finish)
        else:
            self._complete(model, text, scenario, finish)

    def _complete(self, model: str, text: str, scenario: str, finish: str = "stop") -> None:
        data = {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()), "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": finish}],
                "usage": {"prompt_tokens": 100, "completion_tokens": len(text.split()),
                          "total_tokens": 100 + len(text.split())}}
        raw = json.dumps(data).encode()
        if scenario == "garbage":
            raw = b'{"choices": [{"message": <html>Bad Gateway</html>'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        if scenario == "truncated":
            self.wfile.write(raw[: len(raw) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(raw)

    def _stream(self, model: str, text: str, scenario: str, finish: str = "stop") -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if scenario == "cut":
            self.send_header("Content-Length", "1000000")
        self.end_headers()

        def send(delta: dict, finish: str | None = None) -> None:
            chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        if scenario == "garbage":
            self.wfile.write(b"data: {\"choices\": [<<<garbage>>>\n\n")
            self.wfile.flush()
            return
        for _ in range(self.server.keepalives):  # as llama.cpp while it reads a long prompt: comments, no data
            self.wfile.write(b": ping\n\n")
            self.wfile.flush()
            time.sleep(self.server.keepalive_seconds)
        send({"role": "assistant", "content": ""})
        pieces = re.findall(r"\S+\s*", text)
        if scenario in ("truncated", "cut"):
            pieces = pieces[: max(1, len(pieces) // 3)]
        for piece in pieces:
            send({"content": piece})
            if self.server.token_delay:
                time.sleep(self.server.token_delay)
        if scenario in ("truncated", "cut"):
            self.close_connection = True
            return  # connection closes: no finish_reason, no [DONE]
        send({}, finish)  # the last chunk: an empty delta with the finish reason, as llama.cpp and vLLM
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class FakeOpenAIServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, scenario: str = "normal", slow_seconds: float = 3.0,
                 token_delay: float = 0.0, n_ctx: int | None = None, keepalives: int = 0,
                 keepalive_seconds: float = 0.5, python_server: bool = False):
        super().__init__(("127.0.0.1", port), _Handler)
        self.scenario = scenario
        self.slow_seconds = slow_seconds
        self.token_delay = token_delay
        self.n_ctx = n_ctx  # set: /props and /tokenize answer, and answers stop where the context runs out
        # llama-cpp-python's server instead: no /props (its context is not published), /extras/tokenize {"input"}
        self.python_server = python_server
        self.tokenized = 0
        self.keepalives, self.keepalive_seconds = keepalives, keepalive_seconds
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def handle_error(self, request, client_address) -> None:
        """A client that gave up (timeout, cut stream) is expected here: no traceback noise."""
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> "FakeOpenAIServer":
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serveur OpenAI factice sur la boucle locale (tests).")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--scenario", default="normal", choices=sorted(SCENARIOS))
    parser.add_argument("--slow-seconds", type=float, default=3.0)
    parser.add_argument("--token-delay", type=float, default=0.0)
    args = parser.parse_args()
    server = FakeOpenAIServer(args.port, args.scenario, args.slow_seconds, args.token_delay)
    print(f"Serveur OpenAI factice : {server.url} (scénario {args.scenario})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
