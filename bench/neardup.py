"""Near-duplicate benchmark: which detector and which threshold, measured on pairs built from real pages.

    python -m bench.neardup [--vecteurs]

The pages of ``../shared/html_fr`` are extracted as ingestion does (trafilatura), then paired:
- copies (positives): the same text republished with another site's boilerplate (header, date line, share
  buttons, « Lire aussi », footer), lightly edited (≈5 % of the words replaced, a sentence dropped, an update
  line added: an article and its update), heavily edited (≈15 %), shortened for syndication (the first 60 % or
  40 % with a new lead), and the boilerplate and edits together;
- same-topic non-duplicates (negatives): the two halves of one page (same subject, different text) and, from
  ``../shared/bench/piaf``, two paragraphs of the same Wikipedia article; pages paired at random; two short items
  inside the same full site template (boilerplate shared, content different).
Pages are split in two: thresholds are chosen on the even-numbered pages (« choix ») and reported on the others
(« contrôle »). A copy counts as found only if it also shares an LSH band bucket (how ingestion finds candidates).
``--vecteurs`` adds the e5 alternative: cosine of the documents' mean passage vectors (slow on CPU).
"""
from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingestion.chunk import chunk_text
from ingestion.embed import embed_texts
from ingestion.extract import extract_html
from ingestion.neardup import DEFAULT_RULE, SHINGLE_WORDS, Rule, signature
from ingestion.normalize import clean_text
from ingestion.read import decode_text
from veille.config import get_settings
from veille.embeddings import get_embedder

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = 13
HEADERS = ["Accueil > Actualités > Économie", "Publié le 12/03/2024 à 08h15 · Mis à jour le 12/03/2024 à 10h02",
           "Partager : Facebook Twitter LinkedIn E-mail", "Temps de lecture : 4 min", "Abonnez-vous à notre lettre",
           "Newsletter : recevez l'essentiel de l'actualité chaque matin"]
FOOTERS = ["Lire aussi : Les chiffres clés de l'emploi dans la région", "À voir également : notre dossier spécial",
           "Mentions légales · Politique de confidentialité · Gestion des cookies", "© 2024 Tous droits réservés",
           "Vous avez aimé cet article ? Partagez-le !", "Commentaires (0) : soyez le premier à réagir",
           "Source : communiqué de presse"]
UPDATE = "Mise à jour : le dossier a été complété avec les réactions des acteurs concernés."


@dataclass
class Pair:
    a: str
    b: str
    copy: bool
    kind: str
    part: str  # choix | contrôle


def pages() -> list[str]:
    root = SHARED / "html_fr"
    texts = []
    for line in (root / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        try:
            text = clean_text(extract_html(decode_text((root / entry["file"]).read_bytes(), html=True)).text)
        except Exception:  # noqa: BLE001 - a page the extractor refuses is left out
            continue
        if len(text.split()) >= 150:
            texts.append(text)
    return texts


def _boilerplate(text: str, rng: random.Random) -> str:
    return "\n".join(rng.sample(HEADERS, 3)) + "\n\n" + text + "\n\n" + "\n".join(rng.sample(FOOTERS, 3))


def _edited(text: str, rng: random.Random) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text)
    if len(sentences) > 4:
        sentences.pop(rng.randrange(1, len(sentences) - 1))
    words = " ".join(sentences).split(" ")
    pool = [w for w in words if len(w) > 3]
    for i in rng.sample(range(len(words)), max(1, len(words) // 20)):
        words[i] = rng.choice(pool)
    return " ".join(words) + "\n\n" + UPDATE


def _syndicated(text: str, rng: random.Random, share: float = 0.6) -> str:
    paragraphs = [p for p in text.split("\n") if p.strip()]
    keep = paragraphs[: max(1, int(len(paragraphs) * share))]
    return "Selon un communiqué diffusé ce matin, voici l'essentiel.\n\n" + "\n".join(keep)


def _rewritten(text: str, rng: random.Random) -> str:
    """Heavier edits: 15 % of the words replaced, two sentences dropped, an update line."""
    for _ in range(3):
        text = _edited(text, rng).removesuffix("\n\n" + UPDATE)
    return text + "\n\n" + UPDATE


def _templated(text: str) -> str:
    """A short item inside a site's full template (every header and footer line)."""
    return "\n".join(HEADERS) + "\n\n" + " ".join(text.split(" ")[:80]) + "\n\n" + "\n".join(FOOTERS)


def _halves(text: str) -> tuple[str, str]:
    words = text.split(" ")
    return " ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2:])


def build_pairs() -> list[Pair]:
    rng = random.Random(SEED)
    texts = pages()
    pairs: list[Pair] = []
    for i, text in enumerate(texts):
        part = "choix" if i % 2 == 0 else "contrôle"
        pairs += [Pair(text, _boilerplate(text, rng), True, "habillage d'un autre site", part),
                  Pair(text, _edited(text, rng), True, "retouches et mise à jour", part),
                  Pair(text, _syndicated(text, rng), True, "reprise raccourcie", part),
                  Pair(text, _boilerplate(_edited(text, rng), rng), True, "habillage + retouches", part),
                  Pair(text, _rewritten(text, rng), True, "retouches lourdes (15 %)", part),
                  Pair(text, _syndicated(text, rng, 0.4), True, "reprise à 40 %", part)]
        first, second = _halves(text)
        pairs.append(Pair(first, second, False, "deux moitiés d'une page", part))
        other = texts[(i + 1 + rng.randrange(len(texts) - 1)) % len(texts)]
        pairs.append(Pair(text, other, False, "pages différentes", part))
        pairs.append(Pair(_templated(text), _templated(other), False, "même habillage, textes courts différents",
                          part))
    piaf = SHARED / "bench" / "piaf" / "corpus.jsonl"
    if piaf.exists():
        by_article: dict[str, list[str]] = {}
        for line in piaf.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            by_article.setdefault(row["id"].rsplit("-p", 1)[0], []).append(row["text"])
        articles = sorted(a for a, ps in by_article.items() if len(ps) >= 2)
        for j, article in enumerate(rng.sample(articles, min(60, len(articles)))):
            part = "choix" if j % 2 == 0 else "contrôle"
            a, b = rng.sample(by_article[article], 2)
            pairs.append(Pair(a, b, False, "paragraphes d'un même article (PIAF)", part))
            if len(by_article[article]) >= 4:  # a short text beside a long one on the same subject
                rest = "\n".join(t for t in by_article[article] if t != a)
                pairs.append(Pair(a, rest, False, "paragraphe et reste de l'article (PIAF)", part))
    return pairs


def _prf(hits: list[bool], truth: list[bool]) -> tuple[float, float, float]:
    tp = sum(1 for h, t in zip(hits, truth) if h and t)
    fp = sum(1 for h, t in zip(hits, truth) if h and not t)
    fn = sum(1 for h, t in zip(hits, truth) if not h and t)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _decide(scores: list[tuple[float, float]], rule: tuple[float, float | None]) -> list[bool]:
    """Ingestion's rule: Jaccard at least ``rule[0]``, or containment at least ``rule[1]``."""
    tj, tc = rule
    return [j >= tj or (tc is not None and c >= tc) for j, c in scores]


def _best_rule(scores, truth, with_containment: bool) -> tuple[float, float | None]:
    grid = [x / 100 for x in range(20, 100, 2)]
    rules = [(tj, tc) for tj in grid for tc in (grid if with_containment else [None])]
    return max(rules, key=lambda r: (_prf(_decide(scores, r), truth)[2], r[0], r[1] or 0))


def minhash_scores(pairs: list[Pair], size: int) -> list[tuple[float, float]]:
    """(Jaccard, containment) estimated as ingestion does; (0, 0) when the pair shares no LSH bucket."""
    out = []
    for p in pairs:
        a, b = signature(p.a, size), signature(p.b, size)
        if not set(a.bands()) & set(b.bands()):
            out.append((0.0, 0.0))
            continue
        out.append((a.jaccard(b), a.containment(b) if min(a.size, b.size) >= Rule().min_shingles else 0.0))
    return out


def vector_scores(pairs: list[Pair]) -> list[float]:
    settings = get_settings()
    embedder = get_embedder(settings)

    def doc_vector(text: str) -> np.ndarray:
        chunks = [c.text for c in chunk_text(text, settings.chunk_tokens, settings.chunk_overlap)]
        v = np.asarray(embed_texts(embedder, chunks, settings.embed_batch_size)).mean(axis=0)
        return v / (np.linalg.norm(v) or 1.0)

    cache: dict[str, np.ndarray] = {}
    out = []
    for p in pairs:
        va = cache.setdefault(p.a, doc_vector(p.a))
        vb = cache.setdefault(p.b, doc_vector(p.b))
        out.append((float(va @ vb), 0.0))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.neardup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--vecteurs", action="store_true", help="comparer aussi aux vecteurs e5 (lent)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (SHARED / "html_fr").exists():
        print("../shared/html_fr absent : ce banc a besoin des pages partagées.")
        return 1
    pairs = build_pairs()
    methods = {f"MinHash {k} mots": (lambda ps, k=k: minhash_scores(ps, k)) for k in (1, 2, 3, 5)}
    if args.vecteurs:
        methods["vecteurs e5 (cosinus)"] = vector_scores
    choose = [p for p in pairs if p.part == "choix"]
    check = [p for p in pairs if p.part == "contrôle"]
    results = []
    for name, scorer in methods.items():
        s_choose, s_check = scorer(choose), scorer(check)
        for with_containment in ((False, True) if name.startswith("MinHash") else (False,)):
            rule = _best_rule(s_choose, [p.copy for p in choose], with_containment)
            hits = _decide(s_check, rule)
            p, r, f = _prf(hits, [p.copy for p in check])
            kinds: dict[str, list[int]] = {}
            for pair, hit in zip(check, hits):
                kinds.setdefault(pair.kind, [0, 0])[0 if hit == pair.copy else 1] += 1
            results.append({"méthode": name + (" + inclusion" if with_containment else ""), "seuil": rule[0],
                            "seuil_inclusion": rule[1], "précision": round(p, 3), "rappel": round(r, 3),
                            "f1": round(f, 3), "par_type": {k: f"{ok}/{ok + ko}" for k, (ok, ko) in kinds.items()}})
    adopted = _decide(minhash_scores(check, SHINGLE_WORDS), (DEFAULT_RULE.jaccard, DEFAULT_RULE.containment))
    p, r, f = _prf(adopted, [p.copy for p in check])
    results.append({"méthode": f"règle de l'ingestion ({SHINGLE_WORDS} mots)", "seuil": DEFAULT_RULE.jaccard,
                    "seuil_inclusion": DEFAULT_RULE.containment, "précision": round(p, 3), "rappel": round(r, 3),
                    "f1": round(f, 3), "par_type": {}})
    if args.json:
        print(json.dumps({"paires": {"choix": len(choose), "contrôle": len(check)}, "résultats": results},
                         ensure_ascii=False, indent=2))
        return 0
    n_copies = sum(p.copy for p in pairs)
    print(f"{len(pairs)} paires ({n_copies} copies, {len(pairs) - n_copies} non-copies) ; seuil choisi sur "
          f"« choix » ({len(choose)}), mesuré sur « contrôle » ({len(check)})\n")
    print(f"{'méthode':32} {'seuil':>6} {'incl.':>6} {'précision':>9} {'rappel':>7} {'F1':>6}")
    for row in results:
        incl = f"{row['seuil_inclusion']:6.2f}" if row["seuil_inclusion"] is not None else "     –"
        print(f"{row['méthode']:32} {row['seuil']:6.2f} {incl} {row['précision']:9.3f} {row['rappel']:7.3f} "
              f"{row['f1']:6.3f}")
    print("\nBien classées par type de paire (contrôle) :")
    for row in results[:-1]:
        print(f"  {row['méthode']}: " + " ; ".join(f"{k} {v}" for k, v in row["par_type"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
