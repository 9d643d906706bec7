"""Near-duplicate detection: MinHash signatures of word shingles (datasketch), banded into the store's LSH
buckets, so that the same press release on five sites, or an article and its update, form one cluster.

A document is compared only with the documents sharing a band bucket (``Store.band_candidates``); it joins the
cluster of the closest one whose estimated resemblance passes the rule, else it starts its own. The rule and the
shingle size were chosen with ``python -m bench.neardup`` (pages of ../shared/html_fr with edits,
boilerplate changes and genuine same-topic non-duplicates; figures in README).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from veille.store import Store
from veille.text import tokens

NUM_PERM = 128
BANDS, ROWS = 32, 4  # candidate pairs from an estimated Jaccard of ~0.4 up: the rule decides after
SHINGLE_WORDS = 3
SEED = 1


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """Word n-grams of the folded text (accents, case and punctuation do not matter; stop words kept)."""
    words = tokens(text, stem=False, stop=False)
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i:i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


@dataclass
class Signature:
    values: np.ndarray  # uint32, NUM_PERM minimum hashes
    size: int  # number of distinct shingles

    def bands(self) -> list[tuple[int, int]]:
        out = []
        for band in range(BANDS):
            digest = hashlib.blake2b(self.values[band * ROWS:(band + 1) * ROWS].tobytes(), digest_size=8).digest()
            out.append((band, int.from_bytes(digest, "little", signed=True)))
        return out

    def jaccard(self, other: "Signature") -> float:
        return float(np.mean(self.values == other.values))

    def containment(self, other: "Signature") -> float:
        """Estimated share of the smaller text's shingles found in the other (a short release quoted whole)."""
        j = self.jaccard(other)
        inter = j * (self.size + other.size) / (1.0 + j)
        return min(1.0, inter / max(1, min(self.size, other.size)))

    def blob(self) -> bytes:
        return self.values.astype("<u4").tobytes()

    @classmethod
    def from_blob(cls, blob: bytes, size: int) -> "Signature":
        return cls(np.frombuffer(blob, dtype="<u4").astype(np.uint32), size)


def signature(text: str, size: int = SHINGLE_WORDS) -> Signature:
    from datasketch import MinHash

    grams = shingles(text, size)
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED)
    if grams:
        minhash.update_batch(list(grams))
    return Signature(minhash.hashvalues.astype(np.uint32), len(grams))


@dataclass(frozen=True)
class Rule:
    """Two texts are near-duplicates when their estimated Jaccard reaches ``jaccard``, or when the smaller is
    contained in the larger at ``containment`` or more (None: Jaccard only). Short texts (fewer than
    ``min_shingles``) need the Jaccard test: a heading shared by two notes is no copy."""
    jaccard: float = 0.34
    containment: float | None = 0.56
    min_shingles: int = 30

    def resemblance(self, a: Signature, b: Signature) -> float:
        """The resemblance the rule compares (0 when it does not apply)."""
        j = a.jaccard(b)
        if j >= self.jaccard:
            return j
        if self.containment is not None and min(a.size, b.size) >= self.min_shingles:
            c = a.containment(b)
            if c >= self.containment:
                return c
        return 0.0


DEFAULT_RULE = Rule()


def assign_cluster(store: Store, doc_id: str, sig: Signature, rule: Rule = DEFAULT_RULE) -> tuple[str, float]:
    """(cluster, resemblance): the cluster of the most similar stored document that the rule accepts, or the
    document's own cluster (its id) with resemblance 1."""
    if sig.size == 0:
        return doc_id, 1.0
    candidates = [c for c in store.band_candidates(sig.bands()) if c != doc_id]
    best, best_score = doc_id, 0.0
    for other, (cluster, blob, size) in sorted(store.signatures(candidates).items()):
        if blob is None:
            continue
        score = rule.resemblance(sig, Signature.from_blob(blob, size))
        if score > best_score:
            best, best_score = cluster, score
    return (best, round(best_score, 4)) if best_score > 0 else (doc_id, 1.0)
