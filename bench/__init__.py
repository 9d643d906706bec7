"""Measurement code, out of the product: the benchmarks that chose the product's settings (``python -m
bench.formats``, ``bench.neardup``, ``bench.extraction``, ``bench.collect``) and what they share with the tests
(the generated sample files of every format, ``bench.samples``; the loopback HTTP site, ``bench.site``).

May import every package; nothing in the product (``veille``, ``ingestion``, ``accounts``, ``assistant``,
``watch``, the front ends) nor ``eval`` imports it — the tests and ``scripts/`` do."""
