"""Accounts: creation, update, login with throttling.

Passwords are hashed with Argon2id (argon2-cffi). Failed logins are counted in the accounts database, so
the limit holds across several app processes sharing it and across restarts.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

import accounts.audit as audit
from accounts.db import closing, exists, open_db
from veille.config import Settings
from veille.errors import VeilleError
from veille.text import as_list, slug

ROLES = ("admin", "conseiller", "entreprise")
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


class AccessError(VeilleError):
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

    return tuple(sorted({slug(v) for v in as_list(values) if slug(v)}))


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccessError(f"Mot de passe trop court ({MIN_PASSWORD} caractères au moins).")


def accounts_exist(settings: Settings) -> bool:
    """True as soon as one account exists: from then on the app requires a login."""
    if not exists(settings):
        return False
    with closing(open_db(settings)) as db:
        return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def add_user(settings: Settings, login: str, password: str, role: str, filieres=()) -> User:
    login = _clean_login(login)
    if role not in ROLES:
        raise AccessError(f"Rôle inconnu : « {role} » (attendu : {', '.join(ROLES)}).")
    _check_password(password)
    now = time.time()
    with closing(open_db(settings)) as db:
        try:
            db.execute("INSERT INTO users(login, password_hash, role, filieres, active, created_at, updated_at) "
                       "VALUES(?,?,?,?,1,?,?)",
                       (login, _hasher.hash(password), role, json.dumps(_clean_filieres(filieres)), now, now))
        except sqlite3.IntegrityError:
            raise AccessError(f"Le compte « {login} » existe déjà.") from None
    return get_user(settings, login)


def get_user(settings: Settings, login: str) -> User | None:
    if not exists(settings):
        return None
    with closing(open_db(settings)) as db:
        row = db.execute("SELECT * FROM users WHERE login=?", ((login or "").strip().lower(),)).fetchone()
    return _user(row) if row else None


def active_user(settings: Settings, login: str | None) -> User:
    """The active account behind a login, or ``AccessError`` (same message for unknown and disabled)."""
    user = get_user(settings, login or "")
    if user is None or not user.active:
        raise AccessError(ACCESS_REFUSED)
    return user


def list_users(settings: Settings) -> list[User]:
    if not exists(settings):
        return []
    with closing(open_db(settings)) as db:
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
    with closing(open_db(settings)) as db:
        db.execute(f"UPDATE users SET {', '.join(sets)} WHERE login=?", (*params, user.login))
        if password is not None:  # a new password lifts a lock-out
            db.execute("DELETE FROM login_attempts WHERE login=?", (user.login,))
    return get_user(settings, user.login)


def authenticate(settings: Settings, login: str, password: str) -> User | None:
    """The active user for these credentials, or None. Raises ``TooManyAttempts`` when locked out.


    Unknown logins cost the same Argon2 verification as known ones (no account enumeration by timing)."""

    key = (login or "").strip().lower()[:64]
    with closing(open_db(settings)) as db:
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


def user_for_cli(settings: Settings, login: str | None) -> User | None:
    """``--as LOGIN``: the operator acts as that (active) account; no ``--as`` = operator, unrestricted."""
    if not login:
        return None
    user = get_user(settings, login)
    if user is None or not user.active:
        raise AccessError(f"Compte inconnu ou désactivé : « {login} ». Voir « veille users list ».")
    return user
