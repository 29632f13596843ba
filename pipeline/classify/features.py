"""What the trained layer (pipeline/classify/model.py) reads of a question: its definition, in one place.

Four kinds of feature, all already at hand when `stackmine classify` has scanned a question, so
computing them costs next to nothing beyond the scan:
  - rule hits (`hit_features`): per family/label/strength(/place) counts, a strength-weighted sum per
    label, and one indicator per matched term — what the rules saw, without their hand-set weights.
    Each head reads only some families (`ML_FAMILIES`, `STAGE_FAMILIES`): the stage head does not
    read ML terms, which say that a question is about ML, not where in the work its problem is;
  - title words (`t:`), present or not (the title tokens the scan builds);
  - lexicon words (`w:`): each word of any rule phrase, present in title, prose or inline code or
    not (the set the scan builds anyway). All prose words were tried instead: no better
    out-of-fold, and finding them would cost a set intersection of every token per question;
  - tags (`tag:`).
All values are presence indicators or small counts: no document lengths, no corpus statistics, so
a question's features do not depend on any other question (and a batch gives what one-by-one gives).
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.classify.lexicon import Hit

ML_FAMILIES = frozenset({"ml", "stages", "shape"})
STAGE_FAMILIES = frozenset({"stages", "shape"})
ALL_FAMILIES = ML_FAMILIES | STAGE_FAMILIES
STRENGTH_WEIGHT = {"strong": 2.0, "weak": 1.0}
TERM = "term|"


def hit_parts(family: str, label: str, strength: str, place: str, term: str) -> list[tuple[str, float]]:
    """The named features one hit adds to (count features add, `term|` indicators are set)."""
    return [(f"{family}|{label}|{strength}|{place}", 1.0), (f"{family}|{label}|{strength}", 1.0),
            (f"{family}|{label}", STRENGTH_WEIGHT.get(strength, 1.0)), (f"{TERM}{family}|{label}|{term.lower()}", 1.0)]


def hit_features(hits: Iterable[Hit], families: frozenset[str] = ALL_FAMILIES) -> dict[str, float]:
    """Counts and term indicators of the hits of `families`; other hits (platforms) are ignored."""
    out: dict[str, float] = {}
    for hit in hits:
        if hit.family not in families:
            continue
        for name, value in hit_parts(*hit):
            out[name] = 1.0 if name.startswith(TERM) else out.get(name, 0.0) + value
    return out


def text_features(title_tokens: Iterable[str], lexicon_words: Iterable[str], tags: Iterable[str]) -> dict[str, float]:
    """Presence of each title word (t:), lexicon word (w:) and tag (tag:, lower-cased)."""
    out = {f"t:{w}": 1.0 for w in title_tokens}
    out.update({f"w:{w}": 1.0 for w in lexicon_words})
    out.update({f"tag:{t.lower()}": 1.0 for t in tags})
    return out


def question_features(hits: Iterable[Hit], title_tokens: Iterable[str], lexicon_words: Iterable[str],
                      tags: Iterable[str]) -> dict[str, float]:
    """All features of one question, by name: the definition the fast path must equal. Title tokens
    and lexicon words as `Scanner.layer_words` (or `scan_many`'s outputs) give them."""
    out = text_features(title_tokens, lexicon_words, tags)
    out.update(hit_features(hits))
    return out


def gate(hits: Iterable[Hit]) -> bool:
    """Whether the layer is asked: only when the rules found at least one ML term.

    Without any, ml is no (as the rules say) and P(ml) is the model file's rate for such questions:
    out-of-fold, asking the layer there too changed no F1 figure, and most questions of a dump
    have no ML term, so this keeps classify's speed.
    """
    return any(hit.family == "ml" for hit in hits)


def gated(features: dict[str, float]) -> bool:
    """`gate` of a question given by its named features (an ML hit adds the `ml|ml` count)."""
    return "ml|ml" in features


def for_head(features: dict[str, float], families: frozenset[str]) -> dict[str, float]:
    """The features one head reads: hit features only of its rule families, text features all."""
    return {name: value for name, value in features.items() if _family(name) is None or _family(name) in families}


def _family(name: str) -> str | None:
    """The rule family of a hit feature's name; None for text features (t:, w:, tag:)."""
    if ":" in name.split("|", 1)[0]:
        return None
    parts = name.split("|")
    return parts[1] if parts[0] == TERM[:-1] else parts[0]
