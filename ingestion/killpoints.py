"""Test-only fault injection: die like ``kill -9`` at a named step of a store update.

``VEILLE_TEST_KILL_AT=<stage>[:<n>]`` makes the process exit at once (``os._exit(137)``: no cleanup,
no flush, no rollback) the n-th time (default: the first) it reaches ``stage``. Read, as every variable,
through ``Settings`` (``test_kill_at``, loaded once per process). Unset, it costs one attribute lookup. The crash
tests use it to kill an update between every two writes.
"""
from __future__ import annotations

import os
from collections import Counter

from veille.config import get_settings

_reached: Counter[str] = Counter()


def kill_point(stage: str) -> None:
    spec = get_settings().test_kill_at
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != stage:
        return
    _reached[stage] += 1
    if _reached[stage] >= int(nth or 1):
        os._exit(137)
