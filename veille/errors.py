"""The one user-facing error type: its message is French and is shown as is (CLI: one line and exit code 2;
web UI: next to what caused it). Lower layers raise subclasses of it instead of ``SystemExit``."""
from __future__ import annotations


class VeilleError(Exception):
    """A request Veille cannot honour; ``str(exc)`` is the French message for the user."""

    exit_code = 2


class UnknownChoice(VeilleError, ValueError):
    """A named choice (fusion, embedder, retriever mode, tab…) that does not exist; lists the valid ones."""

    def __init__(self, label: str, name: str, valid):
        """``label`` says what is unknown, in French: « Fusion inconnue », « Modèle d'embedding inconnu »."""
        super().__init__(f"{label} : « {name} » (possibles : {', '.join(sorted(valid))}).")
        self.name, self.valid = name, tuple(valid)


def choose(registry: dict, name: str, label: str):
    """``registry[name]``, or ``UnknownChoice`` naming the valid keys (no silent default)."""
    try:
        return registry[name]
    except KeyError:
        raise UnknownChoice(label, name, registry) from None
