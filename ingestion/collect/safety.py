"""Which URLs collection may fetch: http(s) only, and by default no host that resolves to a
loopback, private, link-local or reserved address (SSRF guard for URLs typed by advisors or in the UI).

The check runs after DNS resolution and again on every redirect hop, before any connection.
``collect_allow_hosts`` (``VEILLE_COLLECT_ALLOW_HOSTS``) names intranet hosts or addresses allowed anyway.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeURL(Exception):
    """A URL collection refuses to fetch; the message is the reason shown to the user (French)."""


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:  # 0.0.0.0 reaches the local machine on most systems
        return "adresse réservée"
    if ip.is_loopback:
        return "boucle locale"
    if ip.is_link_local:
        return "lien local"
    if ip.is_private:
        return "réseau privé"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "adresse réservée"
    return None


def check_scheme(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL, or UnsafeURL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL(f"adresse invalide : {url}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"schéma refusé (« {parts.scheme or 'aucun'} ») : seuls http et https sont collectés")
    if not parts.hostname:
        raise UnsafeURL(f"adresse sans nom d'hôte : {url}")
    return parts.hostname.lower().rstrip("."), port or (443 if parts.scheme == "https" else 80)


def _allowed(host: str, addresses: list[str], allow: tuple[str, ...]) -> bool:
    allow_set = {a.strip().lower().rstrip(".") for a in allow if a.strip()}
    return host in allow_set or any(a in allow_set for a in addresses)


async def resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise UnsafeURL(f"nom d'hôte introuvable (DNS) : {host}") from None
    return sorted({info[4][0] for info in infos})


async def check_url(url: str, allow_hosts: tuple[str, ...] = ()) -> None:
    """Raise UnsafeURL unless every address ``url``'s host resolves to is public, or the host is allowed."""
    host, port = check_scheme(url)
    try:  # a literal address needs no resolution (and must never be resolved through DNS)
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        addresses = await resolve(host, port)
    if _allowed(host, addresses, allow_hosts):
        return
    for address in addresses:
        reason = _blocked(ipaddress.ip_address(address.split("%", 1)[0]))
        if reason:
            raise UnsafeURL(f"hôte {host} refusé : il pointe vers une adresse interne ({address}, {reason}) ; "
                            f"ajoutez-le à VEILLE_COLLECT_ALLOW_HOSTS s'il s'agit d'un intranet de confiance")
