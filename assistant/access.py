"""Who may see what: accounts, audiences, and the restriction every retrieval goes through.

Rules (also stated in the README, section « Comptes et droits d'accès »):
- a document's audience is ``public`` (the default), one or more filières, and/or ``partenaires``;
  a document is visible to a user when **any** of its audience values is in the user's audience;
- ``entreprise``: ``public`` + the user's filières; ``conseiller``: the same + ``partenaires``;
  ``admin``: everything (an admin runs the corpus, and could read the store files anyway);
- no account at all = single-user local mode: no restriction, no login (the tool as it always was);
- a restriction only ever narrows: ``restrict`` intersects whatever audience a caller asks for with
  the user's, so crafted filters cannot widen it.

Accounts live in ``home/access.db`` (SQLite, WAL), apart from the corpus store: rebuilding the corpus
never drops accounts or the audit log, and the file can be given tighter permissions. Passwords are
hashed with Argon2id (argon2-cffi). Failed logins are counted in the same database, so the limit holds
across several app processes sharing it and across restarts.
"""
from __future__ import annotations

import copy
import json
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from assistant.filters import Filters
from veille.config import Settings

ROLES = ("admin", "conseiller", "entreprise")
PUBLIC, PARTNERS = "public", "partenaires"
LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
MIN_PASSWORD = 8
# Failed logins allowed per account within the window; further attempts are refused without even
# checking the password until the window has passed.
MAX_FAILURES, WINDOW_S = 5, 15 * 60
# One message for every refusal, whatever the reason (unknown login, disabled, wrong password).
LOGIN_REFUSED = "Identifiant ou mot de passe incorrect."
ACCESS_REFUSED = "Accès refusé : connectez-vous avec un compte actif."

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against for unknown logins, so they cost the same time as known ones."""
    return _hasher.hash("veille: same work for unknown logins")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    login TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    filieres TEXT NOT NULL DEFAULT '[]',
    active INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_attempts (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, login TEXT NOT NULL, outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_login ON login_attempts(login, at);
"""


class AccessError(ValueError):
    """A refused account operation or access; the message is for the user (French)."""


class TooManyAttempts(AccessError):
    pass


@dataclass(frozen=True)
class User:
    login: str
    role: str
    filieres: tuple[str, ...] = ()
    active: bool = True
    created_at: float = field(default=0.0, compare=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


# --- the rule ------------------------------------------------------------------------------------
def audience_for(user: User | None) -> list[str] | None:
    """Audience values a user may read; ``None`` means unrestricted (admin, or no user at all)."""
    if user is None or user.role == "admin":
        return None
    allowed = [PUBLIC, *user.filieres]
    if user.role == "conseiller":
        allowed.append(PARTNERS)
    return sorted(set(allowed))


def restrict(filters: Filters | None, user: User | None) -> Filters:
    """The caller's filters narrowed to the user's audience — never widened — and tagged with the user."""
    out = copy.deepcopy(filters) if filters is not None else Filters()
    if user is None:
        return out
    out.user = user.login
    allowed = audience_for(user)
    if allowed is None:
        return out
    # A requested audience is intersected; an empty result stays empty (matches nothing).
    out.audience = allowed if out.audience is None else [a for a in out.audience if a in allowed]
    return out


def can_read(user: User | None, doc_audience: list[str]) -> bool:
    allowed = audience_for(user)
    return allowed is None or any(a in allowed for a in (doc_audience or [PUBLIC]))


# --- storage -------------------------------------------------------------------------------------
def connect(settings: Settings) -> sqlite3.Connection:
    """``home/access.db`` (accounts, login attempts, audit log), created owner-only."""
    path = settings.home / "access.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(SCHEMA)
    if fresh:
        os.chmod(path, 0o600)
    return conn


def _user(row) -> User:
    return User(login=row["login"], role=row["role"], filieres=tuple(json.loads(row["filieres"])),
                active=bool(row["active"]), created_at=row["created_at"])


def _clean_login(login: str) -> str:
    value = (login or "").strip().lower()
    if not LOGIN_RE.match(value):
        raise AccessError(f"Identifiant invalide : « {login} » (2 à 64 caractères : lettres minuscules, "
                          "chiffres, « . _ @ - »).")
    return value


def _clean_filieres(values) -> tuple[str, ...]:
    from ingestion.metadata import as_list, slug

    return tuple(sorted({slug(v) for v in as_list(values) if slug(v)}))


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccessError(f"Mot de passe trop court ({MIN_PASSWORD} caractères au moins).")


def accounts_exist(settings: Settings) -> bool:
    """True as soon as one account exists: from then on the app requires a login."""
    if not (settings.home / "access.db").exists():
        return False
    with _closing(connect(settings)) as db:
        return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def add_user(settings: Settings, login: str, password: str, role: str, filieres=()) -> User:
    login = _clean_login(login)
    if role not in ROLES:
        raise AccessError(f"Rôle inconnu : « {role} » (attendu : {', '.join(ROLES)}).")
    _check_password(password)
    now = time.time()
    with _closing(connect(settings)) as db:
        try:
            db.execute("INSERT INTO users(login, password_hash, role, filieres, active, created_at, updated_at) "
                       "VALUES(?,?,?,?,1,?,?)",
                       (login, _hasher.hash(password), role, json.dumps(_clean_filieres(filieres)), now, now))
        except sqlite3.IntegrityError:
            raise AccessError(f"Le compte « {login} » existe déjà.") from None
    return get_user(settings, login)


def get_user(settings: Settings, login: str) -> User | None:
    if not (settings.home / "access.db").exists():
        return None
    with _closing(connect(settings)) as db:
        row = db.execute("SELECT * FROM users WHERE login=?", ((login or "").strip().lower(),)).fetchone()
    return _user(row) if row else None


def active_user(settings: Settings, login: str | None) -> User:
    """The active account behind a login, or ``AccessError`` (same message for unknown and disabled)."""
    user = get_user(settings, login or "")
    if user is None or not user.active:
        raise AccessError(ACCESS_REFUSED)
    return user


def list_users(settings: Settings) -> list[User]:
    if not (settings.home / "access.db").exists():
        return []
    with _closing(connect(settings)) as db:
        return [_user(r) for r in db.execute("SELECT * FROM users ORDER BY login")]


def update_user(settings: Settings, login: str, *, active: bool | None = None, role: str | None = None,
                filieres=None, password: str | None = None) -> User:
    user = get_user(settings, login)
    if user is None:
        raise AccessError(f"Compte inconnu : « {login} ».")
    sets, params = ["updated_at=?"], [time.time()]
    if active is not None:
        sets.append("active=?")
        params.append(int(active))
    if role is not None:
        if role not in ROLES:
            raise AccessError(f"Rôle inconnu : « {role} » (attendu : {', '.join(ROLES)}).")
        sets.append("role=?")
        params.append(role)
    if filieres is not None:
        sets.append("filieres=?")
        params.append(json.dumps(_clean_filieres(filieres)))
    if password is not None:
        _check_password(password)
        sets.append("password_hash=?")
        params.append(_hasher.hash(password))
    with _closing(connect(settings)) as db:
        db.execute(f"UPDATE users SET {', '.join(sets)} WHERE login=?", (*params, user.login))
        if password is not None:  # a new password lifts a lock-out
            db.execute("DELETE FROM login_attempts WHERE login=?", (user.login,))
    return get_user(settings, user.login)


# --- login ---------------------------------------------------------------------------------------
def authenticate(settings: Settings, login: str, password: str) -> User | None:
    """The active user for these credentials, or None. Raises ``TooManyAttempts`` when locked out.

    Unknown logins cost the same Argon2 verification as known ones (no account enumeration by timing)."""
    from assistant import audit

    key = (login or "").strip().lower()[:64]
    with _closing(connect(settings)) as db:
        since = time.time() - WINDOW_S
        failures = db.execute("SELECT count(*), min(at) FROM login_attempts WHERE login=? AND at>=? "
                              "AND outcome='echec'", (key, since)).fetchone()
        if failures[0] >= MAX_FAILURES:
            db.execute("INSERT INTO login_attempts(at, login, outcome) VALUES(?,?,'bloque')", (time.time(), key))
            audit.record_event(settings, key, "connexion_bloquee")
            wait = max(1, int((failures[1] + WINDOW_S - time.time()) // 60) + 1)
            raise TooManyAttempts(f"Trop de tentatives de connexion : réessayez dans {wait} min.")
        row = db.execute("SELECT * FROM users WHERE login=?", (key,)).fetchone()
        ok = False
        try:
            ok = _hasher.verify(row["password_hash"] if row else _dummy_hash(), password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        ok = ok and row is not None and bool(row["active"])
        db.execute("INSERT INTO login_attempts(at, login, outcome) VALUES(?,?,?)",
                   (time.time(), key, "succes" if ok else "echec"))
        if ok and _hasher.check_needs_rehash(row["password_hash"]):
            db.execute("UPDATE users SET password_hash=? WHERE login=?", (_hasher.hash(password), key))
    audit.record_event(settings, key, "connexion" if ok else "connexion_refusee")
    return _user(row) if ok else None


# --- entry points for the CLI and the Gradio app ---------------------------------------------------
def user_for_cli(settings: Settings, login: str | None) -> User | None:
    """``--as LOGIN``: the operator acts as that (active) account; no ``--as`` = operator, unrestricted."""
    if not login:
        return None
    user = get_user(settings, login)
    if user is None or not user.active:
        raise AccessError(f"Compte inconnu ou désactivé : « {login} ». Voir « veille users list ».")
    return user


def gradio_auth(settings: Settings):
    """The ``auth=`` callable for ``gr.Blocks.launch``, or None in single-user mode (no account)."""
    if not accounts_exist(settings):
        return None

    def check(username: str, password: str) -> bool:
        try:
            return authenticate(settings, username, password) is not None
        except TooManyAttempts:
            return False

    return check


def request_user(settings: Settings, request) -> User | None:
    """The user behind a Gradio request (``gr.Request``); None in single-user mode.

    Re-read on every call, so disabling an account or changing its filières applies at once, even to
    open sessions. A request without a known, active username is refused (fail closed) — including when
    accounts were created after the app started without a login (restart it)."""
    if not accounts_exist(settings):
        return None
    return active_user(settings, getattr(request, "username", None))


def request_filters(settings: Settings, request, filters: Filters | None = None) -> Filters:
    """The filters a Gradio handler must use: the user's, narrowed to their audience."""
    return restrict(filters, request_user(settings, request))


def enforce(settings: Settings, filters: Filters | None) -> Filters:
    """Re-apply the audience of the user a ``Filters`` carries (the service calls this on every
    retrieval): a stale or hand-built ``Filters`` cannot carry more than the account allows now."""
    if filters is None or not filters.user:
        return filters or Filters()
    return restrict(filters, active_user(settings, filters.user))


def readable_document(store, doc_id: str, user: User | None) -> dict | None:
    """A stored document for a source link or an export — None when missing *or* not readable by the
    user, so callers cannot answer differently in the two cases."""
    doc = store.document(doc_id)
    if doc is None or doc.get("state") != "done" or not can_read(user, doc.get("audience") or [PUBLIC]):
        return None
    return doc


class _closing:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc) -> None:
        self.conn.close()


# --- term statistics within the audience -----------------------------------------------------------
DF_CAP = 2000  # passages counted per term at most: above that a term is "common" whatever its exact count
_IDF_TTL_S = 300.0
_visible_totals: dict[tuple, tuple[float, int]] = {}


def audience_idf(store, filters: Filters):
    """IDF over the passages of the asker's audience only.

    The global vocabulary (``make_idf``) counts every passage, so the weights — hence the answer's
    sentence choice and its confidence — would shift with the terms of documents the asker may not read
    (a probe for "is this rare word in a partner bulletin?"). Here both the passage count and each term's
    document frequency are taken within the audience; counts stop at ``DF_CAP`` to bound the cost."""
    import math

    scope = Filters(audience=filters.audience)
    where, params = scope.sql("d")
    db = store.db
    key = (str(store.settings.db_path), tuple(filters.audience or ()))
    cached = _visible_totals.get(key)
    if cached is None or time.monotonic() - cached[0] > _IDF_TTL_S:
        total = db.execute(f"SELECT coalesce(sum(d.n_chunks), 0) FROM documents d WHERE d.state='done' AND {where}",
                           params).fetchone()[0]
        cached = _visible_totals[key] = (time.monotonic(), int(total))
    n_docs = max(1, cached[1])
    cache: dict[str, float] = {}

    def idf(term: str) -> float:
        if term not in cache:
            df = db.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid "
                f"JOIN documents d ON d.doc_id = c.doc_id WHERE chunks_fts MATCH ? AND d.state='done' AND {where} "
                f"LIMIT {DF_CAP})", [f'"{term}"', *params]).fetchone()[0]
            cache[term] = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
        return cache[term]

    return idf


# --- the Gradio app -------------------------------------------------------------------------------
LOGIN_MESSAGE = "Veille — connectez-vous avec votre compte (identifiant et mot de passe fournis par l'administrateur)."


def ui_restriction(settings: Settings):
    """The ``restrict=`` callable of the app's UIContext when accounts exist (None in single-user mode)."""
    if not accounts_exist(settings):
        return None
    return lambda filters, request: request_filters(settings, request, filters)


def request_is_admin(settings: Settings, request) -> bool:
    """Admin-only features (upload, ingestion history): the admin, or anyone in single-user mode."""
    user = request_user(settings, request)
    return user is None or user.is_admin
