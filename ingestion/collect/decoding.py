"""Content-Encoding decoding with bounded memory (decompression bombs).

httpx decodes each raw piece in one call, whatever it expands to: a 1.6 KB brotli body or a stacked
``gzip, gzip`` one becomes gigabytes inside a single ``decode()``, before any size check can run. Here the
raw bytes (``aiter_raw``) go through our own decoders, each asked for at most ``STEP`` bytes per call
(zlib's ``max_length``, brotli's ``output_buffer_limit``), so a consumer that stops reading past its
cap never holds more than a few steps at once. Stacked encodings are limited, unknown ones refused.
"""
from __future__ import annotations

import zlib
from typing import Iterator

try:
    import brotli
except ImportError:  # brotli is optional for httpx too: then "br" is neither advertised nor accepted
    brotli = None

STEP = 64 * 1024  # bytes of output per decoder call
MAX_ENCODINGS = 2  # "gzip" or "br" are common, two stacked is already odd; more is a bomb or a bug


class DecodingRefused(Exception):
    """A body that is not decoded; the message is the French reason."""


def accept_encoding() -> str:
    return "gzip, deflate, br" if brotli is not None else "gzip, deflate"


class _Zlib:
    def __init__(self, wbits: int, fallback_wbits: int | None = None):
        self.obj = zlib.decompressobj(wbits)
        self.fallback_wbits = fallback_wbits  # "deflate" is zlib-wrapped by the RFC, raw by some servers
        self.head = b""  # input seen before the first output, replayed if the fallback is needed

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.fallback_wbits is not None:
            self.head += data
            if len(self.head) > STEP * 16:  # no output yet after this much input: not worth a replay
                self.fallback_wbits, self.head = None, b""
        while True:
            try:
                out = self.obj.decompress(data, STEP)
            except zlib.error:
                if self.fallback_wbits is None:
                    raise
                self.obj, self.fallback_wbits = zlib.decompressobj(self.fallback_wbits), None
                data, self.head = self.head, b""
                continue
            if out and self.fallback_wbits is not None:  # the format is settled
                self.fallback_wbits, self.head = None, b""
            if out:
                yield out
            data = self.obj.unconsumed_tail
            if self.obj.eof or (not data and len(out) < STEP):
                return

    def finish(self) -> Iterator[bytes]:
        if not self.obj.eof:
            yield from self.feed(b"")


class _Brotli:
    def __init__(self):
        self.obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        out = self.obj.process(data, output_buffer_limit=STEP)
        while True:
            if out:
                yield out
            if self.obj.can_accept_more_data():
                return
            out = self.obj.process(b"", output_buffer_limit=STEP)

    def finish(self) -> Iterator[bytes]:
        return iter(())


def _decoder(name: str):
    if name in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return _Zlib(zlib.MAX_WBITS, fallback_wbits=-zlib.MAX_WBITS)
    if name == "br" and brotli is not None:
        return _Brotli()
    raise DecodingRefused(f"encodage de contenu non pris en charge (« {name} »)")


class BoundedDecoder:
    """Decodes a body sent with ``Content-Encoding: <encodings>`` (in the order they were applied)."""

    def __init__(self, encodings: list[str]):
        names = [e.strip().lower() for e in encodings if e.strip() and e.strip().lower() != "identity"]
        if len(names) > MAX_ENCODINGS:
            raise DecodingRefused(f"trop d'encodages de contenu empilés ({', '.join(names)} ; "
                                  f"au plus {MAX_ENCODINGS})")
        self.stages = [_decoder(name) for name in reversed(names)]  # the last applied is undone first
        self.fed = self.produced = False

    def feed(self, raw: bytes) -> Iterator[bytes]:
        """Decoded pieces of at most ``STEP`` bytes, produced lazily: stop iterating to stop decoding."""
        self.fed = self.fed or bool(raw)
        try:
            for out in _through(self.stages, raw):
                self.produced = True
                yield out
        except (zlib.error, _brotli_error()) as exc:
            raise DecodingRefused(f"contenu compressé illisible ({exc})") from None

    def finish(self) -> Iterator[bytes]:
        """The rest once the raw body has ended. A truncated stream keeps what it decoded (as browsers
        and httpx do); one that decoded to nothing at all from a non-empty body is refused."""
        produced = False
        try:
            for i, stage in enumerate(self.stages):
                for piece in stage.finish():
                    for out in _through(self.stages[i + 1:], piece):
                        produced = True
                        yield out
        except (zlib.error, _brotli_error()) as exc:
            raise DecodingRefused(f"contenu compressé illisible ({exc})") from None
        if self.stages and self.fed and not produced and not self.produced:
            raise DecodingRefused("contenu compressé illisible (rien n'a pu être décompressé)")


def _through(stages, data: bytes) -> Iterator[bytes]:
    if not stages:
        if data:
            yield data
        return
    for piece in stages[0].feed(data):
        yield from _through(stages[1:], piece)


def _brotli_error():
    return brotli.error if brotli is not None else zlib.error
