"""Who may see what: the audience rules every retrieval goes through.

Rules (also stated in the README, section « Comptes et droits d'accès »):
- a document's audience is ``public`` (the default), one or more filières, and/or ``partenaires``;
  a document is visible to a user when **any** of its audience values is in the user's audience;
- ``entreprise``: ``public`` + the user's filières; ``conseiller``: the same + ``partenaires``;
  ``admin``: everything (an admin runs the corpus, and could read the store files anyway);
- no account at all = single-user local mode: no restriction, no login (the tool as it always was);
- a restriction only ever narrows: ``restrict`` intersects whatever audience a caller asks for with
  the user's, so crafted filters cannot widen it.
"""
from __future__ import annotations

import copy

from accounts.users import User, active_user
from veille.config import Settings
from veille.filters import Filters

PUBLIC, PARTNERS = "public", "partenaires"


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
