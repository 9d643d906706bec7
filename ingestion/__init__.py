"""Ingestion: sources → read → extract → normalise → chunk → embed → store (and web collection in ``collect``).

Each stage is a module of its own; ``pipeline.py`` chains them and reports what happened. May import the core
(``veille``) only."""
