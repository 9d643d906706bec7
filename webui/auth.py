"""Gradio login glue: the ``auth=`` callable, the user behind a request, the session's restriction."""
from __future__ import annotations

from accounts import TooManyAttempts, User, accounts_exist, active_user, authenticate, restrict
from veille.config import Settings
from veille.filters import Filters

LOGIN_MESSAGE = "Veille — connectez-vous avec votre compte (identifiant et mot de passe fournis par l'administrateur)."


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


def ui_restriction(settings: Settings):
    """The ``restrict=`` callable of the app's UIContext when accounts exist (None in single-user mode)."""
    if not accounts_exist(settings):
        return None
    return lambda filters, request: request_filters(settings, request, filters)


def request_is_admin(settings: Settings, request) -> bool:
    """Admin-only features (upload, ingestion history): the admin, or anyone in single-user mode."""
    user = request_user(settings, request)
    return user is None or user.is_admin
