"""Veille's evaluation harness: fixed corpus questions, public French benchmarks, reports, quality gate.

It only uses Veille's public entry points (``Ingestor``, ``Assistant``, ``Settings``), as the CLI and UI do.
"""
