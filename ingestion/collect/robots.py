"""robots.txt, fetched once per site and run (conditionally across runs), parsed by urllib.robotparser.

As RFC 9309: a missing robots.txt (4xx) allows everything; an unreachable one (5xx, network) means
"do not crawl this site now". ``Crawl-delay`` raises the politeness delay for that host (capped).
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ingestion.collect.fetcher import BOT_NAME

MAX_CRAWL_DELAY = 10.0

# loader(robots_url) -> (http status or None when unreachable, body text)
Loader = Callable[[str], Awaitable[tuple[int | None, str]]]


class RobotsPolicy:
    def __init__(self, loader: Loader):
        self.loader = loader
        self._parsers: dict[str, RobotFileParser | str | None] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @staticmethod
    def origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.lower()}"

    async def _parser(self, origin: str) -> RobotFileParser | str | None:
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._parsers:
                status, text = await self.loader(origin + "/robots.txt")
                if status is None or status >= 500:
                    self._parsers[origin] = "robots.txt injoignable : site non collecté pour l'instant"
                elif status >= 400:
                    self._parsers[origin] = None  # no robots.txt: everything allowed
                else:
                    parser = RobotFileParser()
                    parser.parse(text.splitlines())
                    self._parsers[origin] = parser
            return self._parsers[origin]

    async def refusal(self, url: str) -> str | None:
        """None when ``url`` may be fetched, else the French reason."""
        if urlsplit(url).path == "/robots.txt":
            return None
        parser = await self._parser(self.origin(url))
        if isinstance(parser, str):
            return parser
        if parser is not None and not parser.can_fetch(BOT_NAME, url):
            return "interdit par robots.txt"
        return None

    def crawl_delay(self, netloc: str, scheme: str = "https") -> float:
        for origin in (f"{scheme}://{netloc}", f"http://{netloc}", f"https://{netloc}"):
            parser = self._parsers.get(origin)
            if isinstance(parser, RobotFileParser):
                delay = parser.crawl_delay(BOT_NAME)
                if delay:
                    return min(float(delay), MAX_CRAWL_DELAY)
        return 0.0
