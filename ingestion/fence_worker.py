"""The process behind the fence (``ingestion/fence.py``): caps its own address space, then reads files one at a
time from its standard input and answers on its standard output, each message a length-prefixed pickle.

Run as ``python -m ingestion.fence_worker MEMORY_BYTES``; only ``ingestion/fence.py`` starts it."""
from __future__ import annotations

import os
import pickle
import resource
import struct
import sys
import time
from typing import BinaryIO

from ingestion.extract import extract, extract_html
from ingestion.formats.base import OUT_OF_MEMORY, reason_of
from ingestion.limits import reading_with
from ingestion.read import SkipFile

HEADER = struct.Struct("!Q")


def send(stream: BinaryIO, value) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO, max_bytes: int | None = None):
    """The next message, or None at the end of the stream (ValueError when it announces over ``max_bytes``)."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (length,) = HEADER.unpack(head)
    if max_bytes is not None and length > max_bytes:
        raise ValueError("message trop long")
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)


def handle(raw, limits, url):
    """("ok", Extracted) | ("skip", French reason) | ("memory", "") — never raises."""
    with reading_with(limits):
        try:
            return "ok", extract_html(raw.data, url) if url is not None else extract(raw)
        except SkipFile as exc:  # a library that ran out of memory, reported by an extractor as its reason
            return ("memory", "") if OUT_OF_MEMORY in str(exc) else ("skip", str(exc))
        except MemoryError:
            return "memory", ""
        except Exception as exc:  # noqa: BLE001 - said to the caller in French, the worker goes on
            return "skip", f"fichier illisible ({reason_of(exc)})"


def main() -> None:
    memory = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The protocol gets its own copy of descriptor 1; descriptor 1 itself becomes stderr, so that nothing a
    # library or a child process prints (Python or C) can break it.
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    send(stdout, ("ready", ""))
    while (request := receive(stdin)) is not None:
        raw, limits, url, seconds = request
        # A processor-time cap per file, beyond the caller's wall clock: it only ever fires for a worker whose
        # caller died (killed) while it was busy, so that none loops on a file for ever. (Not PR_SET_PDEATHSIG:
        # it follows the thread that started the worker, and a web server's threads come and go.)
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        resource.setrlimit(resource.RLIMIT_CPU, (int(used + 2 * seconds + 10), resource.RLIM_INFINITY))
        started = time.monotonic()
        try:
            reply = handle(raw, limits, url)
        except MemoryError:
            reply = ("memory", "")
        send(stdout, (*reply, time.monotonic() - started))  # the time the file took, told to the caller


if __name__ == "__main__":
    main()
