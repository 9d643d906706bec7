"""The assistant: retrieve → compose → decide (refusal policy) → answer → converse; briefings and watches.

May import the core (``veille``), ``accounts`` and ``ingestion``; the front ends and ``eval`` import it."""
