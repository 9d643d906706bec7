"""`veille ask` answered by a running `veille serve`: a small HTTP endpoint on a Unix-domain socket in the home.

A cold `veille ask` spends seconds importing torch and llama-index and loading the model; a running server
already holds a warm ``Assistant``. The server listens on ``home/ask.sock`` (``socket_path``), created mode
0600 and owned by the server's OS user, and answers only peers of that same user (``SO_PEERCRED``): the trust
`veille ask` already has, since that user reads the store's files anyway. The request carries the question,
the ``Filters`` the CLI built (``--as`` already applied; the ``Assistant`` re-applies the account's current
audience on every retrieval, as in-process) and a digest of the client's settings: a server started with
other settings (model, fusion, threshold…) or other code (an upgrade or an edit since it started) answers 409 and the CLI answers in-process, so that an answer never
depends on which path gave it. The response is ``Answer.as_json()``, read back by ``Answer.from_json``.

This module stays light (the standard library; httpx only once a socket is there): the CLI imports it before
it knows whether it must load the models. Transport: the standard library's HTTP server over
``socketserver``'s Unix stream server; httpx's ``HTTPTransport(uds=…)`` on the client side.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import socketserver
import struct
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from assistant.answering.answer import Answer
from veille.config import Settings
from veille.errors import VeilleError
from veille.filters import Filters

SOCKET_NAME = "ask.sock"
CONNECT_TIMEOUT = 1.0  # seconds: a live server accepts at once; a stale file is refused at once
_SUN_PATH_MAX = 107  # bytes of a Unix socket path (Linux: 108 with the terminating NUL)


def socket_path(settings: Settings) -> Path:
    return settings.home / SOCKET_NAME


# The code that answers: Veille's packages and the model files shipped in them (``assistant/answering/reader.npz``, ...).
CODE_ROOT = Path(__file__).resolve().parents[1]
CODE_PACKAGES = ("veille", "ingestion", "accounts", "assistant", "watch", "cli", "webui", "prompts")
CODE_SUFFIXES = (".py", ".json", ".txt", ".md", ".npz")


@functools.cache
def code_fingerprint(root: Path = CODE_ROOT) -> str:
    """Path, size and modification time of every file of the running code (≈ 200 ``stat`` calls, a few ms): a
    server started before an upgrade or an edit answers with the old code, and is told apart like one started
    with other settings."""
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
                info = path.stat()
                digest.update(f"{path.relative_to(root)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def settings_digest(settings: Settings, code: str | None = None) -> str:
    """What must be equal for the server's answer to be the in-process one: the settings (the API key is hashed,
    not sent; paths resolved, so that a relative and an absolute ``VEILLE_HOME`` naming one folder agree) and
    the code (``code_fingerprint``)."""
    resolved = settings.with_(home=settings.home.resolve(),
                              models_path=settings.models_path.resolve() if settings.models_path else None)
    code = code_fingerprint() if code is None else code
    return hashlib.sha256(f"{resolved!r}\0{code}".encode()).hexdigest()


def _read_timeout(settings: Settings) -> float:
    """Long enough for a generated answer and its retries; a server that stops answering is given up on."""
    return settings.llm_timeout * (settings.llm_retries + 1) + 120.0


class AskServerError(VeilleError):
    """A ``VeilleError`` raised by the server's ``Assistant``, shown as the in-process path would show it."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


# --- server --------------------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    server: "AskServer"

    def do_POST(self):  # noqa: N802 - http.server's name
        if self.path != "/ask":
            return self._reply(404, {"error": "Chemin inconnu."})
        if not self.server.same_user(self.request):
            return self._reply(403, {"error": "Réservé au compte système qui lance veille serve."})
        try:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            question, filters = str(request["question"]), Filters(**request.get("filters", {}))
            digest = request["settings"]
        except (ValueError, KeyError, TypeError) as exc:
            return self._reply(400, {"error": f"Requête illisible : {exc}"})
        if digest != self.server.digest:
            return self._reply(409, {"error": "Ce serveur tourne avec d'autres réglages ou une autre version."})
        try:
            answer = self.server.assistant.ask(question, filters)
        except VeilleError as exc:
            return self._reply(422, {"error": str(exc), "exit_code": exc.exit_code})
        except Exception as exc:  # a bug: the client answers in-process, where it shows with its traceback
            return self._reply(500, {"error": f"{type(exc).__name__}: {exc}"})
        self._reply(200, {"answer": answer.as_json()})

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:  # no access log on the console (and no client address on a Unix socket)
        pass


class AskServer(socketserver.ThreadingUnixStreamServer):
    """Answers ``POST /ask`` with ``assistant.ask``, in a daemon thread per request (the ``Assistant`` already
    serves the web UI's concurrent sessions)."""

    daemon_threads = True

    def __init__(self, path: Path, assistant, settings: Settings):
        super().__init__(str(path), _Handler, bind_and_activate=False)
        self.path, self.assistant, self.digest = path, assistant, settings_digest(settings)
        self._inode: int | None = None

    def server_bind(self) -> None:
        """Bound in a private folder, made 0600, then moved into place: never reachable with looser rights,
        and a stale file is replaced atomically."""
        private = Path(tempfile.mkdtemp(prefix=".s", dir=self.path.parent))
        staged = private / SOCKET_NAME
        try:
            self.socket.bind(str(staged))
            os.chmod(staged, 0o600)
            os.replace(staged, self.path)
        finally:
            staged.unlink(missing_ok=True)
            private.rmdir()
        self._inode = self.path.stat().st_ino
        self.server_address = str(self.path)

    def same_user(self, conn: socket.socket) -> bool:
        if not hasattr(socket, "SO_PEERCRED"):  # the 0600 file mode is then the only check
            return True
        _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        return uid == os.getuid()

    def close(self) -> None:
        """Stop serving and remove the socket file, unless another server has replaced it since."""
        self.shutdown()
        self.server_close()
        try:
            if self._inode is not None and self.path.stat().st_ino == self._inode:
                self.path.unlink()
        except FileNotFoundError:
            pass


def _listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(CONNECT_TIMEOUT)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def serve_asks(assistant, settings: Settings, say: Callable[[str], None] = print) -> AskServer | None:
    """Start answering `veille ask` in a background thread; None (said in French) when that cannot be."""
    if settings.ask_server != "on":
        return None
    path = socket_path(settings)
    if len(os.fsencode(path)) + 12 > _SUN_PATH_MAX:  # the staged path is ``.sXXXXXXXX/`` longer
        say(f"« veille ask » ne passera pas par ce serveur : chemin de socket trop long ({path}).")
        return None
    if _listening(path):
        say(f"Un autre « veille serve » répond déjà à « veille ask » pour ce dossier ({path}).")
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        server = AskServer(path, assistant, settings)
        server.server_bind()
        server.server_activate()
    except OSError as exc:
        say(f"« veille ask » ne passera pas par ce serveur : socket {path} impossible ({exc.strerror or exc}).")
        return None
    threading.Thread(target=server.serve_forever, name="veille-ask-socket", daemon=True).start()
    return server


# --- client --------------------------------------------------------------------------------------------------
@dataclass
class AskClient:
    """``ask`` returns the server's ``Answer``, or None when the question must be answered in-process (no
    server, a stale socket, other settings, a server that died mid-request: ``warn`` says the last ones)."""
    settings: Settings
    warn: Callable[[str], None]
    skip: bool = False  # True: in-process (--local), or a question fell back: the next ones without a second warning

    def available(self) -> bool:
        """A socket file of this user is there (checked before importing httpx, so no server costs nothing)."""
        if self.skip or self.settings.ask_server != "on":
            return False
        try:
            info = socket_path(self.settings).stat()
        except OSError:
            return False
        return info.st_uid == os.getuid()

    def ask(self, question: str, filters: Filters) -> Answer | None:
        if not self.available():
            return None
        answer = self._ask(question, filters)
        self.skip = answer is None
        return answer

    def _ask(self, question: str, filters: Filters) -> Answer | None:
        import httpx  # only when a server may answer: costs ≈ 0.1 s

        payload = {"question": question, "filters": asdict(filters), "settings": settings_digest(self.settings)}
        transport = httpx.HTTPTransport(uds=str(socket_path(self.settings)))
        timeout = httpx.Timeout(_read_timeout(self.settings), connect=CONNECT_TIMEOUT)
        try:
            with httpx.Client(transport=transport, timeout=timeout, trust_env=False) as client:
                response = client.post("http://veille-serve/ask", json=payload)
            body = response.json()
        except (httpx.ConnectError, httpx.ConnectTimeout):
            return None  # a socket left by a server that was killed: nobody listens
        except (httpx.HTTPError, ValueError) as exc:
            self.warn(f"« veille serve » n'a pas répondu jusqu'au bout ({type(exc).__name__}) : "
                      "la question est traitée ici.")
            return None
        if response.status_code == 200:
            return Answer.from_json(body["answer"])
        if response.status_code == 422:
            raise AskServerError(body["error"], body.get("exit_code", 2))
        if response.status_code == 409:
            self.warn("« veille serve » tourne avec d'autres réglages ou une autre version de Veille (relancez-le "
                      "après une mise à jour) : la question est traitée ici.")
        else:
            self.warn(f"« veille serve » a refusé la question ({response.status_code} : {body.get('error', '')}) : "
                      "elle est traitée ici.")
        return None
