"""URL canonical form: the identity of a collected page in the registry."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|mc_cid|mc_eid|xtor|at_medium|at_campaign)$", re.IGNORECASE)
_CANONICAL_LINK = re.compile(rb"""<link\b[^>]*\brel\s*=\s*["']?canonical["']?[^>]*>""", re.IGNORECASE)
_HREF = re.compile(rb"""\bhref\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def declared_canonical(body: bytes, page_url: str) -> str | None:
    """The page's ``<link rel=canonical>`` when it stays on the same host (a foreign one is not trusted)."""
    m = _CANONICAL_LINK.search(body[:200_000])
    if not m:
        return None
    href = _HREF.search(m.group(0))
    if not href:
        return None
    target = urljoin(page_url, href.group(1).decode("utf-8", "ignore").strip())
    if urlsplit(target).scheme not in ("http", "https"):
        return None
    if urlsplit(target).netloc.lower() != urlsplit(page_url).netloc.lower():
        return None
    return canonical_url(target)
