"""Freed model activations go back to the system (``veille.heap``): a long ingestion's memory stays near what
it uses. Checked on glibc's real allocator, in fresh processes (the setting is process-wide)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO

# After one large block has come and gone (glibc then raises its mmap threshold to that size, as after a
# long embedding batch), 100 blocks of 256 KiB, each followed by a 32 KiB allocation that stays: freed, the
# blocks are holes in the heap that the RSS keeps, unless they were served by mmap.
PROBE = """
import ctypes, sys
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss_mb():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
if sys.argv[1] == "veille":
    from veille.heap import return_large_blocks
    print(return_large_blocks())
else:
    print(False)
first = libc.malloc(8 << 20); ctypes.memset(first, 1, 8 << 20); libc.free(first)
blocks, pins = [], []
for _ in range(100):
    block = libc.malloc(256 << 10); ctypes.memset(block, 1, 256 << 10); blocks.append(block)
    pins.append(libc.malloc(32 << 10))
before = rss_mb()
for block in blocks:
    libc.free(block)
print(before - rss_mb())
"""


def _freed_mb(mode: str, env: dict | None = None) -> tuple[bool, int]:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=REPO, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.exists("/proc/self/status"),
                    reason="glibc et /proc : Linux seulement")
def test_freed_large_blocks_are_given_back():
    applied, freed = _freed_mb("veille")
    assert applied and freed >= 20  # ≈ 25 Mo given back
    _, kept = _freed_mb("glibc")
    assert kept < 5  # glibc's default: the holes stay in the RSS


def test_a_users_own_malloc_setting_wins():
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "1048576"}
    applied, _ = _freed_mb("veille", env)
    assert not applied
