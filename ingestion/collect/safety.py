"""Which URLs collection may fetch: http(s) only, and by default no host that resolves to a
loopback, private, link-local or reserved address (SSRF guard for URLs typed by advisors or in the UI).

The check runs after DNS resolution and again on every redirect hop, before any connection. An IPv6
address that carries an IPv4 one (IPv4-mapped or -translated, IPv4-compatible, 6to4, Teredo, NAT64) is
judged by that IPv4 address too: ``[2002:7f00:1::]`` is loopback.

``collect_allow_hosts`` (``VEILLE_COLLECT_ALLOW_HOSTS``) names intranet hosts allowed anyway, as
``host`` (any port) or ``host:port``, matched on the host as written in the URL, never on what it
resolves to: allowing ``127.0.0.1`` lets neither ``localhost`` nor ``2130706433`` through.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from veille.config import parse_host_entry


class UnsafeURL(Exception):
    """A URL collection refuses to fetch; the message is the reason shown to the user (French)."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix (RFC 6052): the IPv4 address is the low 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use prefixes (RFC 8215): internal by definition
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765)
_COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible (deprecated, RFC 4291)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[ipaddress.IPv4Address, str]]:
    """The IPv4 addresses an IPv6 address wraps, each with the name of the wrapping."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found = []
    if ip.ipv4_mapped:
        found.append((ip.ipv4_mapped, "IPv4 mappée"))
    if ip in _TRANSLATED:
        found.append((low32, "IPv4 traduite"))
    if ip in _COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves
        found.append((low32, "IPv4 compatible"))
    if ip.sixtofour:
        found.append((ip.sixtofour, "6to4"))
    if ip.teredo:
        found += [(ip.teredo[0], "Teredo"), (ip.teredo[1], "Teredo")]
    if ip in _NAT64:
        found.append((low32, "NAT64"))
    return found


def _blocked(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address):
        for inner, wrapping in _embedded_ipv4(ip):
            reason = _blocked(inner)
            if reason:
                return f"{reason} : {inner} enveloppée ({wrapping})"
        if ip in _NAT64_LOCAL:
            return "réseau privé : préfixe NAT64 local"
        if ip.ipv4_mapped or ip in _TRANSLATED or ip in _NAT64:
            return None  # a translation of a public IPv4 address (DNS64 gives these on IPv6-only networks)
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


def _canonical(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return host


def allowed(host: str, port: int, allow: tuple[str, ...]) -> bool:
    """Whether ``host:port`` of a URL is named in the allow-list (entries ``host`` or ``host:port``)."""
    host = _canonical(host)
    for entry in allow:
        if entry.strip():
            name, entry_port = parse_host_entry(entry)
            if name == host and entry_port in (None, port):
                return True
    return False


async def resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise UnsafeURL(f"nom d'hôte introuvable (DNS) : {host}") from None
    return sorted({info[4][0] for info in infos})


async def check_url(url: str, allow_hosts: tuple[str, ...] = ()) -> None:
    """Raise UnsafeURL unless every address ``url``'s host resolves to is public, or the host is allowed."""
    host, port = check_scheme(url)
    if allowed(host, port, allow_hosts):
        return
    try:  # a literal address needs no resolution (and must never be resolved through DNS)
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        addresses = await resolve(host, port)
    for address in addresses:
        reason = _blocked(ipaddress.ip_address(address.split("%", 1)[0]))
        if reason:
            raise UnsafeURL(f"hôte {host} refusé : il pointe vers une adresse interne ({address}, {reason}) ; "
                            f"ajoutez-le à VEILLE_COLLECT_ALLOW_HOSTS (hôte ou hôte:port) s'il s'agit d'un "
                            f"intranet de confiance")
