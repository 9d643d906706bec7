"""Bulletin items summarised by the language model, when one is configured: each item's summary is written from
its cited passages (the ``bulletin_item`` prompt) and verified like a generated answer (``assistant.generation.verify``);
its sentences without a supporting passage are taken out, and an item whose summary keeps none stays extractive
(its key sentences only). The first failed call stops the model for the bulletin: extractive, said in a notice."""
from __future__ import annotations

from assistant.generation.generate import format_passages
from assistant.generation.llm import LLMError
from assistant.generation.prompts import render


def summarise_items(generator, topic: str, items: list, numbering, passages: list) -> str | None:
    """Fill ``item.summary`` (with its ``[n]`` marks, numbered in ``numbering`` over ``passages``) for each of
    ``items``; returns a French notice when the model could not be used, else None."""
    index = {p.node.node_id: i for i, p in enumerate(passages)}
    system = render("system", refusal=render("refusal"))
    for item in items:
        shown = list({p.node.node_id: p for p, _ in item.pending}.values())
        if not shown:
            continue
        user = render("bulletin_item", topic=topic, title=item.title or item.source, passages=format_passages(shown))
        try:
            text = generator.llm.complete(system, user)
        except LLMError as exc:
            return f"résumés génératifs indisponibles ({exc}) : phrases extraites des documents"
        check = generator.verifier.verify(text, [p.node.get_content() for p in shown])
        item.summary = " ".join(
            f"{s.text} " + numbering.marks((index[shown[n - 1].node.node_id], s.support.get(n, "")) for n in s.kept)
            for s in check.supported)
    return None
