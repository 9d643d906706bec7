"""The collection allow-list matches a host as written in the URL, and its port when given; IPv6 forms
wrapping a forbidden IPv4 address are refused. Real requests go to servers on 127.0.0.1 only: a refused
hop must never reach them."""
from __future__ import annotations

import asyncio

import pytest
from conftest import PAGE, LoopbackSite

from ingestion.collect.fetcher import Fetcher
from ingestion.collect.safety import UnsafeURL, allowed, check_url
from veille.config import load_settings


@pytest.fixture(scope="module")
def servers():
    main, other = LoopbackSite(), LoopbackSite()
    p = main.port
    main.redirects = {
        "/to-localhost": f"http://localhost:{p}/page",
        "/to-decimal": f"http://2130706433:{p}/page",
        "/to-short-form": f"http://127.1:{p}/page",
        "/to-mapped": f"http://[::ffff:127.0.0.1]:{p}/page",
        "/to-6to4": f"http://[2002:7f00:1::]:{p}/page",
        "/to-other-port": f"http://127.0.0.1:{other.port}/page",
    }
    yield main, other
    main.close()
    other.close()


def _fetch(settings, url):
    async def go():
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(url, check_robots=False)

    return asyncio.run(go())


@pytest.mark.parametrize("hop, with_port", [
    ("/to-localhost", False), ("/to-decimal", False), ("/to-short-form", False), ("/to-mapped", False),
    ("/to-6to4", False), ("/to-other-port", True)])
def test_redirect_to_another_name_or_port_of_an_allowed_address_is_refused(servers, settings, hop, with_port):
    main, other = servers
    entry = f"127.0.0.1:{main.port}" if with_port else "127.0.0.1"  # the latter: what let localhost through
    csettings = settings.with_(collect_allow_hosts=(entry,), collect_delay=0.0, collect_retries=1)
    main.log.clear()
    other.log.clear()
    result = _fetch(csettings, f"http://127.0.0.1:{main.port}{hop}")
    assert result.error and "refusé" in result.error and "adresse interne" in result.error
    assert result.requests == 1 and main.log == [hop] and other.log == []  # the refused hop never connected


def test_allowed_host_and_port_are_fetched(servers, settings):
    main, other = servers
    exact = settings.with_(collect_allow_hosts=(f"127.0.0.1:{main.port}",), collect_delay=0.0)
    assert _fetch(exact, f"http://127.0.0.1:{main.port}/page").body == PAGE
    # An entry without a port opens every port of that host (the redirect to the other server goes through).
    any_port = settings.with_(collect_allow_hosts=("127.0.0.1",), collect_delay=0.0)
    other.log.clear()
    result = _fetch(any_port, f"http://127.0.0.1:{main.port}/to-other-port")
    assert result.ok and result.body == PAGE and other.log == ["/page"]
    # ... but still not the other names of that address.
    assert "refusé" in _fetch(any_port, f"http://127.0.0.1:{main.port}/to-localhost").error


@pytest.mark.parametrize("url", [
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",  # IPv4-mapped
    "http://[::ffff:0:7f00:1]/",  # IPv4-translated
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[2002:7f00:1::]/", "http://[2002:a00:1::]/", "http://[2002:a9fe:a9fe::]/",  # 6to4 of 127/8, 10/8, 169.254
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::c0a8:114]/",  # NAT64 of 127.0.0.1, 192.168.1.20
    "http://[64:ff9b:1::808:808]/",  # local-use NAT64 prefix
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
])
def test_ipv6_wrapping_a_forbidden_ipv4_address_is_refused(url):
    with pytest.raises(UnsafeURL, match="refusé"):
        asyncio.run(check_url(url))


@pytest.mark.parametrize("url", ["http://[64:ff9b::808:808]/", "http://[2002:808:808::]/",
                                 "http://[2001:4860:4860::8888]/"])
def test_ipv6_wrapping_a_public_address_is_accepted(url):
    asyncio.run(check_url(url))  # NAT64 (DNS64 networks), 6to4 of a public address, plain public IPv6


@pytest.mark.parametrize("host, port, allow, expected", [
    ("127.0.0.1", 8251, ("127.0.0.1",), True),
    ("127.0.0.1", 22, ("127.0.0.1",), True),
    ("127.0.0.1", 22, ("127.0.0.1:8251",), False),
    ("localhost", 8251, ("127.0.0.1",), False),
    ("2130706433", 8251, ("127.0.0.1",), False),
    ("127.0.0.1", 8251, ("localhost:8251",), False),
    ("localhost", 8251, ("LocalHost.:8251",), True),
    ("::1", 8000, ("[::1]:8000",), True),
    ("0:0::1", 8000, ("::1",), True),
    ("intranet.exemple.fr", 443, ("https://intranet.exemple.fr:443/",), True),
    ("intranet.exemple.fr", 80, ("intranet.exemple.fr:443",), False),
])
def test_allow_list_matches_host_as_written_and_port(host, port, allow, expected):
    assert allowed(host, port, allow) is expected


def test_allow_list_typos_are_reported_in_french_when_settings_load():
    assert load_settings({"VEILLE_COLLECT_ALLOW_HOSTS": "127.0.0.1:8251, intranet"}).collect_allow_hosts == (
        "127.0.0.1:8251", "intranet")
    for bad in ("127.0.0.1:http", "intranet/chemin", "hote:70000"):
        with pytest.raises(ValueError, match="VEILLE_COLLECT_ALLOW_HOSTS"):
            load_settings({"VEILLE_COLLECT_ALLOW_HOSTS": bad})
