"""Veille's evaluation harness: fixed corpus questions, public French benchmarks, reports, quality gate.

It uses Veille's public entry points (``Ingestor``, ``Assistant``, ``Settings``), as the CLI and UI do; it may
import every layer but the front ends."""
