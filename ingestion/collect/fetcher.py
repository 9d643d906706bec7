"""Polite async HTTP fetching with httpx.

- a global and a per-host concurrency limit, and a delay between two requests to one host;
- retries with exponential backoff on transient errors (tenacity), honouring ``Retry-After`` on 429/503;
- conditional GET (``If-None-Match`` / ``If-Modified-Since``): an unchanged page costs one 304;
- redirects followed by hand, each hop checked by ``safety.check_url`` (and robots) before connecting;
- bodies streamed and abandoned past ``collect_max_bytes``, counted after decompression, which runs a
  bounded step at a time (``decoding``: a compressed bomb never expands in memory); unwanted content
  types are not downloaded.
"""
from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from ingestion.collect.decoding import BoundedDecoder, DecodingRefused, accept_encoding
from ingestion.collect.safety import UnsafeURL, check_url
from veille.config import Settings
from veille.numbers import file_size, over_limit

BOT_NAME = "VeilleBot"
# Header values must be ASCII.
USER_AGENT = f"{BOT_NAME}/1.0 (+assistant de veille economique territoriale; respecte robots.txt)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
MAX_RETRY_AFTER = 120.0  # seconds; a server asking for longer is reported, not waited for
HTTP_REASONS = {400: "requête refusée", 401: "authentification requise", 403: "accès interdit", 404: "page introuvable",
                410: "page supprimée", 429: "trop de requêtes", 500: "erreur du serveur", 502: "passerelle en erreur",
                503: "service indisponible", 504: "délai de la passerelle dépassé"}


class FetchError(Exception):
    """A fetch that failed for good; the message is the French reason."""


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.retry_after = retry_after
        self.status = status


@dataclass
class FetchResult:
    url: str  # as requested
    final_url: str = ""
    status: int | None = None  # HTTP status of the last hop
    not_modified: bool = False
    content_type: str = ""
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None  # French reason when the page could not be fetched
    skipped: str | None = None  # French reason when the page was deliberately not downloaded
    requests: int = 0
    conditional: list[bool] = field(default_factory=list)  # per request: did it carry validators?

    @property
    def ok(self) -> bool:
        return self.error is None and self.skipped is None and not self.not_modified


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class _HostGate:
    """Per-host concurrency and spacing between request starts."""

    def __init__(self, per_host: int):
        self.sem = asyncio.Semaphore(per_host)
        self.lock = asyncio.Lock()
        self.next_start = 0.0

    async def turn(self, delay: float) -> None:
        async with self.lock:
            wait = self.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.next_start = time.monotonic() + delay


class Fetcher:
    """One per collection run (``async with Fetcher(settings) as f``)."""

    def __init__(self, settings: Settings, robots: "Callable[[str], Awaitable[str | None]] | None" = None,
                 delay_for: Callable[[str], float] | None = None):
        self.settings = settings
        self.robots_check = robots  # async url -> refusal reason (or None)
        self.delay_for = delay_for or (lambda host: settings.collect_delay)
        self._global = asyncio.Semaphore(max(1, settings.collect_concurrency))
        self._gates: dict[str, _HostGate] = {}
        self.client: httpx.AsyncClient | None = None
        self.requests = 0

    async def __aenter__(self) -> "Fetcher":
        n = max(1, self.settings.collect_concurrency)
        # trust_env=False: no proxy from the environment, so the address we check is the one we reach.
        self.client = httpx.AsyncClient(
            follow_redirects=False, trust_env=False, headers={"User-Agent": USER_AGENT,
                                                              "Accept-Language": "fr,fr-FR;q=0.9,en;q=0.5",
                                                              "Accept-Encoding": accept_encoding()},
            timeout=httpx.Timeout(self.settings.collect_timeout),
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n))
        return self

    async def __aexit__(self, *exc) -> None:
        if self.client is not None:
            await self.client.aclose()

    def _gate(self, host: str) -> _HostGate:
        if host not in self._gates:
            self._gates[host] = _HostGate(max(1, self.settings.collect_per_host))
        return self._gates[host]

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None,
                    accept: Callable[[str], bool] | None = None, check_robots: bool = True) -> FetchResult:
        """GET ``url`` following redirects by hand. Never raises: problems land in ``error``/``skipped``."""
        result = FetchResult(url=url, final_url=url)
        current, seen = url, {url}
        try:
            for _hop in range(self.settings.collect_max_redirects + 1):
                await check_url(current, self.settings.collect_allow_hosts)
                if check_robots and self.robots_check is not None:
                    refusal = await self.robots_check(current)
                    if refusal:
                        result.skipped = refusal
                        return result
                location = await self._with_retries(current, etag, last_modified, accept, result)
                if location is None:
                    return result
                nxt = urljoin(current, location)
                if nxt in seen:
                    raise FetchError(f"boucle de redirections ({current} → {nxt})")
                seen.add(nxt)
                current = result.final_url = nxt
            raise FetchError(f"trop de redirections (plus de {self.settings.collect_max_redirects})")
        except UnsafeURL as exc:
            result.error = str(exc)
        except FetchError as exc:
            result.error = str(exc)
        return result

    async def _with_retries(self, url, etag, last_modified, accept, result: FetchResult) -> str | None:
        backoff = wait_exponential_jitter(multiplier=0.5, max=10.0, jitter=0.5)

        def wait(state) -> float:
            exc = state.outcome.exception()
            retry_after = getattr(exc, "retry_after", None)
            return retry_after if retry_after is not None else backoff(state)

        location = None
        try:
            async for attempt in AsyncRetrying(stop=stop_after_attempt(max(1, self.settings.collect_retries)),
                                               wait=wait, retry=retry_if_exception_type(_Transient), reraise=True):
                with attempt:
                    location = await self._request(url, etag, last_modified, accept, result)
        except _Transient as exc:
            raise FetchError(f"{exc} (après {max(1, self.settings.collect_retries)} tentatives)") from None
        return location

    async def _request(self, url, etag, last_modified, accept, result: FetchResult) -> str | None:
        """One HTTP exchange. Returns a redirect location, or None when ``result`` is final."""
        assert self.client is not None
        host = urlsplit(url).netloc.lower()
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        gate = self._gate(host)
        async with self._global, gate.sem:
            await gate.turn(self.delay_for(host))
            result.requests += 1
            result.conditional.append(bool(headers))
            self.requests += 1
            try:
                # A whole-exchange deadline as well: httpx's timeout is per read, so a server dripping
                # one byte at a time would otherwise never time out.
                async with asyncio.timeout(self.settings.collect_timeout * 3):
                    return await self._exchange(url, headers, accept, result)
            except (TimeoutError, httpx.TimeoutException):
                raise _Transient("délai dépassé") from None
            except httpx.TransportError as exc:
                raise _Transient(f"erreur réseau ({type(exc).__name__})") from None

    async def _exchange(self, url, headers, accept, result: FetchResult) -> str | None:
        async with self.client.stream("GET", url, headers=headers) as resp:
            status = resp.status_code
            result.status = status
            if status in REDIRECT_STATUSES:
                location = resp.headers.get("location")
                if not location:
                    raise FetchError(f"redirection HTTP {status} sans destination")
                return location
            if status in RETRY_STATUSES:
                retry_after = parse_retry_after(resp.headers.get("retry-after"))
                reason = f"HTTP {status} ({HTTP_REASONS.get(status, 'erreur')})"
                if retry_after is not None and retry_after > MAX_RETRY_AFTER:
                    raise FetchError(f"{reason} : le serveur demande d'attendre {retry_after:.0f} s")
                raise _Transient(reason, retry_after, status)
            if status == 304:
                result.not_modified = True
                return None
            if status >= 400 or status < 200:
                raise FetchError(f"HTTP {status} ({HTTP_REASONS.get(status, 'erreur')})")
            result.content_type = media_type(resp.headers.get("content-type"))
            result.etag = resp.headers.get("etag")
            result.last_modified = resp.headers.get("last-modified")
            if accept is not None and not accept(result.content_type):
                result.skipped = f"type de contenu non pris en charge ({result.content_type or 'inconnu'})"
                return None
            result.body = await self._read_body(resp)
            return None

    async def _read_body(self, resp: httpx.Response) -> bytes:
        """The decoded body, abandoned as soon as it passes the cap, raw or decoded."""
        cap = self.settings.collect_max_bytes
        declared = resp.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"page trop volumineuse ({over_limit(int(declared), cap)})")

        def too_big(decoded: bool) -> FetchError:
            return FetchError(f"page trop volumineuse{' une fois décompressée' if decoded else ''} "
                              f"(plus de {file_size(cap)}, téléchargement abandonné)")

        try:
            decoder = BoundedDecoder(resp.headers.get_list("content-encoding", split_commas=True))
            chunks, raw_size, size = [], 0, 0
            async for raw in resp.aiter_raw():
                raw_size += len(raw)
                if raw_size > cap:
                    raise too_big(False)
                for piece in decoder.feed(raw):
                    size += len(piece)
                    if size > cap:
                        raise too_big(bool(decoder.stages))
                    chunks.append(piece)
            for piece in decoder.finish():
                size += len(piece)
                if size > cap:
                    raise too_big(True)
                chunks.append(piece)
        except DecodingRefused as exc:
            raise FetchError(f"page refusée : {exc}") from None
        return b"".join(chunks)
