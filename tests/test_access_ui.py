"""The Gradio app with accounts: login required, the API endpoints called without the UI (real HTTP on
loopback, with and without forged session cookies), and the page in headless Chromium — a filière-A
company user never sees filière-B or partner-only documents, their names, sources or counts."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import free_port
from test_access import ATTACKS, DOCS, PASSWORD, write_corpus

import accounts

SECRETS = ("ALBATROS", "Safrel", "Normacier", "Gravenchon", "filiere b", "partenaires.txt", "filiere_b",
           "Saint-Aubin", "340 millions", "huit nacelles", "Moselle", "tubes d", "Trois cent dix", "motoriste")


def leaks(out: str, question: str = "") -> list[str]:
    """Secrets in a response, except those the question itself contains (the chat echoes it)."""
    return [s for s in SECRETS if s in out and s.lower() not in question.lower()]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def app(tmp_path_factory, models_dir, embedder):
    from assistant.service import Assistant
    from ingestion.pipeline import Ingestor
    from veille.config import Settings
    from webui.serve import start

    base = tmp_path_factory.mktemp("access-ui")
    settings = Settings(home=base / "home", models_path=models_dir)
    Ingestor(settings, embedder=embedder, progress=False).ingest_paths([write_corpus(base / "corpus", DOCS)])
    accounts.add_user(settings, "ent-a", PASSWORD, "entreprise", ["agroalimentaire"])
    accounts.add_user(settings, "ent-b", PASSWORD, "entreprise", ["aeronautique"])
    accounts.add_user(settings, "cible", PASSWORD, "entreprise", [])
    port = free_port()
    blocks = start("127.0.0.1", port, settings=settings, assistant=Assistant(settings, embedder=embedder),
                   block=False, warm=False, say=lambda *_: None)
    yield {"url": f"http://127.0.0.1:{port}", "settings": settings, "blocks": blocks}
    blocks.close()


def login(url: str, user: str, password: str = PASSWORD) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120)
    r = client.post("/login", data={"username": user, "password": password})
    assert r.status_code == 200, r.text
    return client


def call(client: httpx.Client, endpoint: str, data: list) -> str:
    """Gradio's HTTP API without the UI: POST the inputs, read the server-sent events to the end."""
    r = client.post(f"/gradio_api/call/{endpoint}", json={"data": data})
    if r.status_code != 200:
        return f"HTTP {r.status_code}"
    event_id = r.json()["event_id"]
    with client.stream("GET", f"/gradio_api/call/{endpoint}/{event_id}") as stream:
        return "".join(stream.iter_text())


def test_api_requires_login_and_rejects_forged_cookies(app):
    url = app["url"]
    assert httpx.get(f"{url}/config").status_code == 401
    assert httpx.post(f"{url}/gradio_api/call/chat", json={"data": ["Safrel ?"] + [None] * 7}).status_code == 401
    cookie_id = app["blocks"].server_app.cookie_id if hasattr(app["blocks"], "server_app") else None
    names = [f"access-token-{cookie_id}", f"access-token-unsecure-{cookie_id}"] if cookie_id else []
    names += ["access-token", "access-token-unsecure"]
    forged = httpx.Client(base_url=url, cookies={n: "ent-b" for n in names}, timeout=30)
    assert forged.get("/config").status_code == 401
    assert forged.post("/gradio_api/call/chat", json={"data": ["Safrel ?"] + [None] * 7}).status_code == 401
    bad = httpx.post(f"{url}/login", data={"username": "ent-a", "password": "mauvais-mot"})
    assert bad.status_code == 400


def test_api_endpoints_do_not_leak(app):
    client = login(app["url"], "ent-a")
    for question, _ in ATTACKS:
        # chat inputs: question, types, since, until, sources, filières, languages (the state is server-side);
        # a crafted filière and type are passed too: they narrow, never widen.
        for filieres in ([], ["aeronautique"]):
            out = call(client, "chat", [question, [], "", "", [], filieres, []])
            # Gradio may refuse a value outside the session's choices: an error is an acceptable outcome then.
            assert "event: complete" in out or (filieres and "event: error" in out), out[-500:]
            assert not leaks(out, question), (question, out[-800:])
    brief = call(client, "brief", ["nacelles Safrel ALBATROS fermeture Gravenchon", "", "", []])
    assert not leaks(brief, "nacelles Safrel ALBATROS fermeture Gravenchon"), brief[-800:]
    upload = call(client, "upload", [[]])  # refused, said beside the button (not an error wiping the page)
    message = json.loads(upload.split("data: ", 1)[1].splitlines()[0])[0]
    assert "réservé aux administrateurs" in message and "Safrel" not in upload
    # The entitled user gets the filière-B document through the same endpoint.
    entitled = call(login(app["url"], "ent-b"), "chat", [ATTACKS[1][0], [], "", "", [], [], []])
    assert "Safrel" in entitled and "340 millions" in entitled


def test_disabled_account_loses_its_open_session(app):
    client = login(app["url"], "ent-b")
    accounts.update_user(app["settings"], "ent-b", active=False)
    try:
        out = call(client, "chat", [ATTACKS[1][0], [], "", "", [], [], []])
        assert "event: error" in out and "Accès refusé" in json.loads(out.split("data: ", 1)[1])["error"]
        assert not leaks(out, ATTACKS[1][0])
    finally:
        accounts.update_user(app["settings"], "ent-b", active=True)


def test_login_attempts_are_rate_limited_over_http(app):
    url = app["url"]
    for _ in range(accounts.MAX_FAILURES):
        assert httpx.post(f"{url}/login", data={"username": "cible", "password": "devine-moi"}).status_code == 400
    locked = httpx.post(f"{url}/login", data={"username": "cible", "password": PASSWORD})
    assert locked.status_code == 400  # the right password no longer opens the account for a while
    events = [r.event for r in __import__("accounts.audit", fromlist=["rows"]).rows(app["settings"], login="cible")]
    assert "connexion_bloquee" in events


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium absent (apt-get install chromium)")
def test_browser_login_and_restricted_page(app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox",
                                                                         "--disable-gpu"])
        page = browser.new_page(locale="fr-FR")
        page.set_default_timeout(90_000)
        page.goto(app["url"])
        page.wait_for_selector("input[type=password]")
        assert "connectez-vous" in page.content()
        page.fill("input[name=username], input[type=text]", "ent-a")
        page.fill("input[type=password]", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("#question textarea")
        page.fill("#question textarea", ATTACKS[0][0])
        page.click("#send")
        page.wait_for_function("""() => { const m = document.querySelectorAll('#chat [data-testid="bot"]');
            return m.length && /Mode : /.test(m[m.length - 1].innerText); }""")
        body = page.locator("body").inner_text()
        assert not leaks(body, ATTACKS[0][0])
        page.get_by_role("tab", name="Corpus").click()
        page.wait_for_function("() => /documents/.test(document.querySelector('#corpus-summary').innerText)")
        # 3 documents visible to a filière-A company user (2 public + 1 filière A), not 5.
        assert "**3**" in page.locator("#corpus-summary").inner_text() or \
            "3 documents" in page.locator("#corpus-summary").inner_text()
        page.screenshot(path=str(Path(__file__).parent / "artifacts" / "access-entreprise.png"), full_page=True)
        browser.close()
