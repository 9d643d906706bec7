"""Ingestion: sources → read → extract → normalise → chunk → embed → store.

Each stage is a module of its own; ``pipeline.py`` chains them and reports what happened."""
