"""The assistant: retrieve → compose → decide (refusal policy) → answer → converse.

May import the core (``veille``), ``accounts`` and ``ingestion``; the watch job (``watch``: briefings, watches,
bulletins, schedule), the front ends and ``eval`` import it."""
