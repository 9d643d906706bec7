"""Adversarial access tests: a company user of filière A tries every way to reach filière-B or
partner-only documents; nothing leaks, and entitled users do find them.

The strongest check compares the company user's answers with the answers of a second store that never
contained the forbidden documents: they must be identical (text, citations, confidence), so not even a
term statistic of a forbidden document shows through.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import veille

import accounts
from accounts import AccessError, TooManyAttempts, User, audit, restrict
from accounts.db import open_db
from assistant.service import Assistant
from veille.filters import Filters
from veille.passage import Query

PASSWORD = "motdepasse-solide"

DOCS = {
    "public_port": (["public"], [], (
        "Le port de Cherbourg a accueilli 1,2 million de passagers transmanche en 2023. "
        "La chambre de commerce prévoit d'agrandir le terminal ferroviaire pour le fret. "
        "Les élus normands soutiennent la liaison maritime avec l'Irlande.")),
    "public_aero": (["public"], ["aeronautique"], (
        "La filière aéronautique normande compte environ 250 entreprises et 15 000 salariés. "
        "Le salon régional des sous-traitants aéronautiques se tient chaque année à Rouen. "
        "Les formations de chaudronnerie aéronautique recrutent des apprentis.")),
    "filiere_a": (["agroalimentaire"], ["agroalimentaire"], (
        "Les laiteries coopératives du Cotentin engagent un plan de modernisation de 12 millions d'euros. "
        "Le plan finance des tours de séchage pour la poudre de lait infantile. "
        "Les producteurs de lait bénéficient d'une prime de conversion au pâturage.")),
    "filiere_b": (["aeronautique"], ["aeronautique"], (
        "Le programme ALBATROS de l'équipementier Safrel prévoit l'assemblage de nacelles à Saint-Aubin-lès-Elbeuf. "
        "Safrel négocie un contrat de 340 millions d'euros avec un motoriste pour les nacelles ALBATROS. "
        "La cadence visée est de huit nacelles par mois en 2027.")),
    "partenaires": (["partenaires"], [], (
        "Bulletin confidentiel : la société Normacier envisage la fermeture de son site de Gravenchon. "
        "Normacier étudie le transfert de sa production de tubes d'acier vers la Moselle. "
        "Trois cent dix emplois seraient concernés par la fermeture de Gravenchon.")),
}
FORBIDDEN_FOR_A = {"filiere_b", "partenaires"}

ATTACKS = [  # (question, the forbidden document it targets)
    ("Quel est le programme de nacelles de Safrel ?", "filiere_b"),
    ("Quel est le montant du contrat ALBATROS ?", "filiere_b"),
    ("Safrel négocie un contrat de 340 millions d'euros avec un motoriste pour les nacelles ALBATROS.", "filiere_b"),
    ("Quelle cadence est visée pour les nacelles ?", "filiere_b"),
    ("Normacier va-t-elle fermer son site de Gravenchon ?", "partenaires"),
    ("Bulletin confidentiel : la société Normacier envisage la fermeture de son site de Gravenchon.", "partenaires"),
    ("Combien d'emplois sont concernés par la fermeture de Gravenchon ?", "partenaires"),
    ("tubes d'acier Moselle transfert production", "partenaires"),
]


def write_corpus(root: Path, names) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        audience, filieres, text = DOCS[name]
        (root / f"{name}.txt").write_text(text, encoding="utf-8")
        (root / f"{name}.txt.meta.json").write_text(json.dumps(
            {"title": name.replace("_", " "), "doc_type": "bulletin", "audience": audience, "filieres": filieres}),
            encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def world(tmp_path_factory, models_dir, embedder):
    """The full store with accounts, plus a store holding only what filière-A users may see."""
    from ingestion.pipeline import Ingestor
    from veille.config import Settings

    base = tmp_path_factory.mktemp("access")
    full = Settings(home=base / "home", models_path=models_dir)
    corpus = write_corpus(base / "corpus", DOCS)
    Ingestor(full, embedder=embedder, progress=False).ingest_paths([corpus])
    visible = Settings(home=base / "visible", models_path=models_dir)
    Ingestor(visible, embedder=embedder, progress=False).ingest_paths(
        [write_corpus(base / "corpus_visible", set(DOCS) - FORBIDDEN_FOR_A)])
    accounts.add_user(full, "ent-a", PASSWORD, "entreprise", ["Agroalimentaire"])
    accounts.add_user(full, "ent-b", PASSWORD, "entreprise", ["aeronautique"])
    accounts.add_user(full, "conseil", PASSWORD, "conseiller", [])
    accounts.add_user(full, "chef", PASSWORD, "admin", [])
    doc_ids = {name: _doc_id(full, name) for name in DOCS}
    return {"full": full, "visible": visible, "corpus": corpus, "ids": doc_ids,
            "assistant": Assistant(full, embedder=embedder), "peer": Assistant(visible, embedder=embedder)}


def _doc_id(settings, name: str) -> str:
    from veille.store import get_store

    row = get_store(settings).db.execute("SELECT doc_id FROM sources WHERE source LIKE ?", (f"%/{name}.txt",)).fetchone()
    return row["doc_id"]


def user(world, login: str) -> User:
    return accounts.get_user(world["full"], login)


def leaked(world, answer, forbidden=FORBIDDEN_FOR_A) -> set[str]:
    """Forbidden documents showing in an answer: cited, or any of their sentences in the text."""
    ids = {world["ids"][n]: n for n in forbidden}
    found = {ids[c.doc_id] for c in answer.citations if c.doc_id in ids}
    for name in forbidden:
        for sentence in DOCS[name][2].split(". "):
            if sentence.strip(". ") and sentence.strip(". ") in answer.answer:
                found.add(name)
    for word in ("ALBATROS", "Safrel", "Normacier", "Gravenchon"):
        if word in answer.answer:
            found.add(word)
    return found


def same_answer(mine, peer) -> bool:
    """Same text, refusal, citations; confidence equal up to HNSW float noise (~1e-7)."""
    cites = lambda a: [(c.doc_id, c.chunk_id, c.sentence) for c in a.citations]  # noqa: E731
    return ((mine.answer, mine.refused, cites(mine)) == (peer.answer, peer.refused, cites(peer))
            and abs(mine.confidence - peer.confidence) < 1e-5)


# --- the rule -----------------------------------------------------------------------------------------
def test_audience_rule_and_restrict_never_widens():
    company = User("a", "entreprise", ("agroalimentaire",))
    advisor = User("c", "conseiller", ("aeronautique",))
    assert accounts.audience_for(company) == ["agroalimentaire", "public"]
    assert accounts.audience_for(advisor) == ["aeronautique", "partenaires", "public"]
    assert accounts.audience_for(User("x", "admin")) is None and accounts.audience_for(None) is None
    crafted = Filters(audience=["aeronautique", "partenaires", "public"], filieres=["aeronautique"])
    narrowed = restrict(crafted, company)
    assert narrowed.audience == ["public"] and narrowed.filieres == ["aeronautique"] and narrowed.user == "a"
    assert restrict(Filters(audience=["partenaires"]), company).audience == []  # matches nothing
    assert crafted.audience == ["aeronautique", "partenaires", "public"]  # the caller's object is untouched
    assert "user" not in narrowed.as_dict()


# --- the Python entry point ------------------------------------------------------------------------
@pytest.mark.parametrize("question, target", ATTACKS)
def test_company_user_never_reaches_forbidden_documents(world, question, target):
    assistant = world["assistant"]
    ent_a = user(world, "ent-a")
    answer = assistant.ask(question, restrict(Filters(), ent_a))
    assert not leaked(world, answer)
    retrieved = assistant.retrieve(question, restrict(Filters(), ent_a)).passages
    assert not {p.node.metadata["doc_id"] for p in retrieved} & {world["ids"][n] for n in FORBIDDEN_FOR_A}
    # Identical to a store where the forbidden documents never existed: no wording, count or weight differs.
    assert same_answer(answer, world["peer"].ask(question))


def test_term_weights_ignore_forbidden_documents(world):
    """IDF within the audience equals the IDF of a store holding only the visible documents, exactly."""
    from veille.store import get_store

    mine = get_store(world["full"]).term_stats(restrict(Filters(), user(world, "ent-a")).audience)
    peer = get_store(world["visible"]).term_stats()
    everything = get_store(world["full"]).term_stats()
    for term in ("safrel", "nacel", "gravenchon", "lait", "port", "aeronaut"):
        assert mine(term) == pytest.approx(peer(term), abs=1e-12), term
    assert everything("safrel") != peer("safrel")  # the global statistics would have told


@pytest.mark.parametrize("question, target", ATTACKS)
def test_entitled_users_do_find_them(world, question, target):
    login = "ent-b" if target == "filiere_b" else "conseil"
    for who in (login, "chef"):
        answer = world["assistant"].ask(question, restrict(Filters(), user(world, who)))
        assert not answer.refused, (who, question)
        assert world["ids"][target] in {c.doc_id for c in answer.citations}, (who, question)


@pytest.mark.parametrize("crafted", [
    Filters(filieres=["aeronautique"]),
    Filters(doc_types=["bulletin"]),
    Filters(audience=["aeronautique", "partenaires"]),
    Filters(audience=None, filieres=["aeronautique"], doc_types=["bulletin"]),
])
def test_crafted_filters_cannot_widen(world, crafted):
    ent_a = user(world, "ent-a")
    for question, _ in ATTACKS[:2] + ATTACKS[4:6]:
        assert not leaked(world, world["assistant"].ask(question, restrict(crafted, ent_a)))


def test_hand_built_filters_carrying_a_user_are_enforced_by_the_service(world):
    """A Filters naming the user but with a forged audience (or none) is re-checked on retrieval."""
    assistant = world["assistant"]
    for forged in (Filters(user="ent-a"), Filters(user="ent-a", audience=["partenaires", "aeronautique"])):
        for question, _ in ATTACKS:
            assert not leaked(world, assistant.ask(question, forged))
    # A public document filtered by topic is still reachable: filters narrow, access decides.
    answer = assistant.ask("Combien d'entreprises compte la filière aéronautique normande ?",
                           restrict(Filters(filieres=["aeronautique"]), user(world, "ent-a")))
    assert world["ids"]["public_aero"] in {c.doc_id for c in answer.citations}


def test_disabled_account_is_refused_even_with_an_open_session(world):
    accounts.add_user(world["full"], "temp", PASSWORD, "entreprise", ["aeronautique"])
    filters = restrict(Filters(), user(world, "temp"))  # as a session would hold it
    assert not world["assistant"].ask(ATTACKS[0][0], filters).refused
    accounts.update_user(world["full"], "temp", active=False)
    with pytest.raises(AccessError):
        world["assistant"].ask(ATTACKS[0][0], filters)


def test_source_links_do_not_tell_forbidden_from_missing(world):
    from veille.store import get_store

    store = get_store(world["full"])
    ent_a = user(world, "ent-a")
    assert accounts.readable_document(store, world["ids"]["filiere_a"], ent_a)["doc_id"] == world["ids"]["filiere_a"]
    assert accounts.readable_document(store, world["ids"]["filiere_b"], ent_a) is None
    assert accounts.readable_document(store, "0" * 20, ent_a) is None
    assert accounts.readable_document(store, world["ids"]["partenaires"], user(world, "conseil")) is not None


# --- accounts, login, audit ----------------------------------------------------------------------------
def test_login_hashing_rate_limit_and_audit(world, settings):
    accounts.add_user(settings, "marie", PASSWORD, "conseiller", ["numérique"])
    stored = open_db(settings).execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.get_user(settings, "MARIE").filieres == ("numerique",)
    assert accounts.authenticate(settings, "marie", PASSWORD).login == "marie"
    assert accounts.authenticate(settings, "marie", "mauvais") is None
    assert accounts.authenticate(settings, "personne", PASSWORD) is None  # same answer as a wrong password
    for _ in range(accounts.MAX_FAILURES - 1):
        assert accounts.authenticate(settings, "marie", "mauvais") is None
    with pytest.raises(TooManyAttempts, match="Trop de tentatives"):
        accounts.authenticate(settings, "marie", PASSWORD)  # locked out even with the right password
    accounts.update_user(settings, "marie", password="nouveau-mot-de-passe")  # an admin reset lifts the lock
    assert accounts.authenticate(settings, "marie", "nouveau-mot-de-passe") is not None
    events = [r.event for r in audit.rows(settings, login="marie")]
    assert events.count("connexion") == 2 and events.count("connexion_refusee") == accounts.MAX_FAILURES
    assert "connexion_bloquee" in events
    with pytest.raises(AccessError, match="existe déjà"):
        accounts.add_user(settings, "marie", PASSWORD, "admin")
    with pytest.raises(AccessError, match="Rôle inconnu"):
        accounts.add_user(settings, "paul", PASSWORD, "directeur")
    with pytest.raises(AccessError, match="trop court"):
        accounts.add_user(settings, "paul", "court", "admin")


def test_questions_are_audited_with_returned_documents(world):
    question = "Quel plan de modernisation pour les laiteries du Cotentin ?"
    answer = world["assistant"].ask(question, restrict(Filters(), user(world, "ent-a")))
    row = [r for r in audit.rows(world["full"], login="ent-a", event="question") if r.question == question][-1]
    assert world["ids"]["filiere_a"] in row.doc_ids
    assert {c.doc_id for c in answer.citations} <= set(row.doc_ids)
    assert not set(row.doc_ids) & {world["ids"][n] for n in FORBIDDEN_FOR_A}


# --- the real command line ---------------------------------------------------------------------------
def test_cli_as_user(world, env):
    env = dict(env, VEILLE_HOME=str(world["full"].home))
    questions = "\n".join(q for q, _ in ATTACKS) + "\n"
    run = veille("ask", "--as", "ent-a", "--json", env=env, input=questions)
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    forbidden = {world["ids"][n] for n in FORBIDDEN_FOR_A}
    assert len(answers) == len(ATTACKS)
    for a in answers:
        assert not {c["doc_id"] for c in a["citations"]} & forbidden
        assert not any(w in a["answer"] for w in ("ALBATROS", "Safrel", "Normacier", "Gravenchon"))
    crafted = veille("ask", "--as", "ent-a", "--filiere", "aeronautique", "--type", "bulletin", "--json",
                     ATTACKS[0][0], env=env)
    assert json.loads(crafted.stdout)["refused"]
    entitled = veille("ask", "--as", "ent-b", "--json", ATTACKS[1][0], env=env)
    assert world["ids"]["filiere_b"] in {c["doc_id"] for c in json.loads(entitled.stdout)["citations"]}
    unknown = veille("ask", "--as", "inconnu", "Safrel ?", env=env)
    assert unknown.returncode != 0 and "Compte inconnu ou désactivé" in unknown.stderr
    # The admin exports the audit; the company user may not.
    denied = veille("audit", "export", "--as", "ent-a", env=env)
    assert denied.returncode == 2 and "admin" in denied.stderr
    export = veille("audit", "export", "--as", "chef", "--user", "ent-a", "--format", "jsonl", env=env)
    assert export.returncode == 0, export.stderr
    rows = [json.loads(line) for line in export.stdout.splitlines()]
    assert any(r["question"] == ATTACKS[0][0] and r["login"] == "ent-a" for r in rows)


def test_cli_users_commands(env):
    add = veille("users", "add", "Lea", "--role", "entreprise", "--filiere", "Énergie", "--password-stdin",
                 env=env, input=PASSWORD + "\n")
    assert add.returncode == 0, add.stderr
    listed = [json.loads(line) for line in veille("users", "list", "--json", env=env).stdout.splitlines()]
    assert listed == [{"login": "lea", "role": "entreprise", "filieres": ["energie"], "active": True,
                       "audience": ["energie", "public"]}]
    assert veille("users", "disable", "lea", env=env).returncode == 0
    assert veille("users", "set-password", "lea", "--password-stdin", env=env, input="x\n").returncode == 2
    bad = veille("users", "add", "zoe", "--role", "entreprise", "--password-stdin", env=env, input="court\n")
    assert bad.returncode == 2 and "trop court" in bad.stderr
    refused = veille("ask", "--as", "lea", "Quelle filière ?", env=env)
    assert refused.returncode != 0 and "désactivé" in refused.stderr


# --- the filtered dense search (SQL filter over a nearest-neighbour pool instead of Chroma's where) ----
def _chroma_where_ids(store, vector, filters, k):
    result = store.collection.query(query_embeddings=[vector], n_results=k, where=filters.chroma_where(),
                                    include=["distances"])
    return result["ids"][0]


@pytest.mark.parametrize("filters", [Filters(audience=["agroalimentaire", "public"]), Filters(doc_types=["bulletin"]),
                                     Filters(filieres=["aeronautique"]), Filters(audience=["partenaires"])])
def test_filtered_dense_search_matches_chroma_where(world, embedder, monkeypatch, filters):
    from assistant.search import retrieve
    from veille.store import get_store

    store = get_store(world["full"])
    for question, _ in ATTACKS[:4]:
        vector = embedder.embed_queries([question])[0].tolist()
        dense = retrieve.DenseRetriever(store, embedder, top_k=3, filters=filters)
        got = [n.node.node_id for n in dense._nearest_in_sql(vector, 3 * retrieve.DENSE_FILTER_POOL)]
        assert got == _chroma_where_ids(store, vector, filters, 3)
        # A pool too small to hold top_k allowed chunks: without an audience, Chroma's where takes over;
        # with one, only allowed chunks come back (never a forbidden one), with the same work every time.
        monkeypatch.setattr(retrieve, "DENSE_FILTER_POOL", 1)
        monkeypatch.setattr(retrieve, "DENSE_SEARCH_WIDTH", 1)
        small = [n.node.node_id for n in retrieve.DenseRetriever(store, embedder, top_k=3, filters=filters)
                 .retrieve(Query(question, embedding=vector))]
        allowed = set(_chroma_where_ids(store, vector, filters, 50))
        assert set(small) <= allowed
        if filters.audience is None:
            assert small == _chroma_where_ids(store, vector, filters, 3)
        monkeypatch.undo()


BRIEF_TOPIC = "production industrielle en Normandie : lait, port et aéronautique"


def test_restricted_briefing_is_the_briefing_of_a_store_without_hidden_documents(world):
    """Sentence choice, themes and sources of a filière-A user's note equal those of a store that never held
    the documents they may not read (term weights taken within the audience, not over the whole corpus)."""
    from watch.brief import make_brief

    mine = make_brief(world["assistant"], BRIEF_TOPIC, restrict(Filters(), user(world, "ent-a")))
    peer = make_brief(world["peer"], BRIEF_TOPIC)

    def content(b):
        return (b.overview, [(t.title, [(p.text, p.numbers) for p in t.points]) for t in b.themes],
                [c.doc_id for c in b.sources], b.empty)

    assert not peer.empty
    assert content(mine) == content(peer)


def test_restricted_watch_finds_what_a_store_without_hidden_documents_finds(tmp_path, models_dir, embedder):
    from ingestion.pipeline import Ingestor
    from veille.config import Settings
    from watch.watches import add_watch, news, run_watches

    full = Settings(home=tmp_path / "full", models_path=models_dir)
    visible = Settings(home=tmp_path / "visible", models_path=models_dir)
    accounts.add_user(full, "ent-a", PASSWORD, "entreprise", ["agroalimentaire"])
    query = "investissements industriels : laiteries, nacelles, fermeture de site"
    add_watch(query, restrict(Filters(), accounts.get_user(full, "ent-a")), name="industrie", threshold=0.0,
              settings=full)
    add_watch(query, name="industrie", threshold=0.0, settings=visible)
    Ingestor(full, embedder=embedder, progress=False).ingest_paths([write_corpus(tmp_path / "c_full", DOCS)])
    Ingestor(visible, embedder=embedder, progress=False).ingest_paths(
        [write_corpus(tmp_path / "c_visible", set(DOCS) - FORBIDDEN_FOR_A)])
    run_watches(full, embedder=embedder)
    run_watches(visible, embedder=embedder)
    mine = [(h.doc_id, h.snippet, h.score) for h in news(full, "industrie")["industrie"]]
    peer = [(h.doc_id, h.snippet, h.score) for h in news(visible, "industrie")["industrie"]]
    assert peer and sorted(mine) == sorted(peer)


PUBLIC_QUESTIONS = ["Combien de passagers le port de Cherbourg a-t-il accueillis ?",
                    "Combien d'entreprises compte la filière aéronautique normande ?",
                    "Quel plan engagent les laiteries du Cotentin ?",
                    "port terminal ferroviaire fret lait nacelles"]


@pytest.mark.parametrize("question", PUBLIC_QUESTIONS)
def test_restricted_answer_json_equals_a_store_without_hidden_documents(world, question):
    """Everything a filière-A user can observe — text, sources, their order, scores, confidence, evidence — is
    what a store that never held the hidden documents gives (lexical scores use the audience's statistics)."""
    def observable(answer):
        data = answer.as_json()
        for key in ("timings_ms", "filters"):
            data.pop(key)
        for c in data["citations"]:
            c["source"] = Path(c["source"]).name
        return data

    mine = world["assistant"].ask(question, restrict(Filters(), user(world, "ent-a")))
    peer = world["peer"].ask(question)
    assert observable(mine) == observable(peer)


def test_audience_lexical_scores_are_bm25_of_the_visible_passages(world):
    """The store's lexical search within an audience scores like FTS5 over a store of those passages only."""
    from veille.store import get_store

    audience = restrict(Filters(), user(world, "ent-a"))
    terms = ["port", "lait", "nacel", "safrel", "aeronaut"]
    mine = {r["doc_id"]: r["rank"] for r in get_store(world["full"]).lexical_search(terms, audience)}
    peer = {r["doc_id"]: r["rank"] for r in get_store(world["visible"]).lexical_search(terms)}
    assert mine.keys() == peer.keys() and mine
    for doc_id, rank in peer.items():
        assert mine[doc_id] == pytest.approx(rank, rel=1e-9)


def test_audience_statistics_follow_new_documents(tmp_path, models_dir, embedder):
    """Documents arriving while a server runs (another process ingesting) count at once in the audience's
    statistics: a term now in more passages than were counted before must not break the search (seen in the
    soak test as « math domain error » on every question after an ingestion)."""
    from ingestion.pipeline import Ingestor
    from veille.config import Settings
    from veille.store import get_store

    settings = Settings(home=tmp_path / "home", models_path=models_dir)
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Le port de Cherbourg accueille des ferries.", encoding="utf-8")
    Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    store = get_store(settings)
    public = Filters(audience=["public"])
    assert len(store.lexical_search(["port"], public)) == 1
    for i in range(4):
        (corpus / f"b{i}.txt").write_text(f"Le port numéro {i} agrandit son terminal ferroviaire.", encoding="utf-8")
    Ingestor(settings, embedder=embedder, progress=False).ingest_paths([corpus])
    found = store.lexical_search(["port"], public)
    assert len(found) == 5 and all(r["rank"] < 0 for r in found)
