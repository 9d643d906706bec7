"""What a cited source shows besides its passages: the other copies of its text (its near-duplicate cluster,
« repris par N sources »), only those the asker's audience may see, and its main entities (the chips).

Filled after numbering, for answers, notes and watch findings alike, from the session's ``Filters``: the
audience of the account they carry is re-read here (``accounts.enforce``), whatever the caller passed."""
from __future__ import annotations

from accounts import enforce
from assistant.answering.answer import Citation, Copy
from assistant.entities import Entities
from veille.filters import Filters, source_label

ENTITY_CHIPS = 4  # entities shown per source: a glance, the « Entités » tab has the rest


def copies_of(store, doc_ids: list[str], audience: list[str] | None) -> dict[str, list[Copy]]:
    """The other members of each document's cluster that ``audience`` may see (None: no restriction)."""
    clusters = store.clusters_of(doc_ids)
    members = store.cluster_members(sorted(set(clusters.values())), Filters(audience=audience))
    return {d: [Copy(m["doc_id"], m["title"] or "", m["site"] or source_label(m["source"] or ""), m["url"], m["date"])
                for m in members.get(clusters[d], []) if m["doc_id"] != d] for d in doc_ids}


def enrich_citations(settings, store, citations: list[Citation], filters: Filters | None) -> list[Citation]:
    """Each citation's ``copies`` (within the audience of ``filters``) and ``entities`` chips, in place."""
    ids = [c.doc_id for c in citations if c.doc_id]
    if not ids:
        return citations
    audience = enforce(settings, filters or Filters()).audience
    copies = copies_of(store, ids, audience)
    chips = Entities(settings, store).of_documents(ids, ENTITY_CHIPS)
    for c in citations:
        c.copies = copies.get(c.doc_id, [])
        c.entities = [[name, kind] for name, kind in chips.get(c.doc_id, [])]
    return citations
