"""Accounts apart from the corpus: users and login throttling, the audience rules, the audit log, the users'
feedback on answers (``accounts.feedback``, imported by the front ends only).

May import the core (``veille``) only. One database for the accounts (``home/access.db``, see ``accounts.db``),
another for the feedback (``home/feedback.db``); the Gradio login glue lives in the web UI (``webui/auth.py``)."""
from accounts.audience import PARTNERS, PUBLIC, audience_for, can_read, enforce, readable_document, restrict
from accounts.users import (
                            ACCESS_REFUSED,
                            LOGIN_REFUSED,
                            MAX_FAILURES,
                            ROLES,
                            WINDOW_S,
                            AccessError,
                            TooManyAttempts,
                            User,
                            accounts_exist,
                            active_user,
                            add_user,
                            authenticate,
                            get_user,
                            list_users,
                            update_user,
                            user_for_cli,
)

__all__ = ["ACCESS_REFUSED", "LOGIN_REFUSED", "MAX_FAILURES", "PARTNERS", "PUBLIC", "ROLES", "WINDOW_S",
           "AccessError", "TooManyAttempts", "User", "accounts_exist", "active_user", "add_user", "audience_for",
           "authenticate", "can_read", "enforce", "get_user", "list_users", "readable_document", "restrict",
           "update_user", "user_for_cli"]
