"""Extractors of the formats beyond web pages and plain text, one module per family; each turns a
``RawFile`` into an ``Extracted`` and is registered in ingestion/extract.py ``EXTRACTORS``."""
