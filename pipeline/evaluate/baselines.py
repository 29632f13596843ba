"""The naive methods every classifier score is read against: tags-only and keyword-anywhere.

Both take the same parsed question the rules see and return codebook labels, so `evaluate`
scores all three with the same code. Their term lists are `pipeline/evaluate/rules/baselines.v1.yaml`
(keywords) and the tag lists of the rule files themselves (tags-only), so "tags-only" means
"our own tag lexicon, without text" — the fairest version of that baseline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from importlib import resources

import yaml

from pipeline.core.codebook import PLATFORMS
from pipeline.classify.lexicon import Rules


@dataclass(frozen=True)
class Guess:
    """A method's labels for one question; the classifier's also carry its secondary stage and its
    probabilities (P(ml); P(stage) per codebook stage when it calls the question ML)."""

    platforms: list[str]
    ml: bool
    stage: str
    stage2: str | None = None
    p_ml: float | None = None
    p_stage: tuple[float, ...] | None = None


def load_baselines(version: str = "v1") -> dict:
    """The keyword lists of `pipeline/evaluate/rules/baselines.<version>.yaml`."""
    text = (resources.files("pipeline.evaluate") / "rules" / f"baselines.{version}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


class TagsOnly:
    """Platforms, ml and stage from tags alone, using the rule files' tag lists."""

    def __init__(self, rules: Rules, fallback_stage: str) -> None:
        self.platform_tags: dict[str, set[str]] = {p: set() for p in PLATFORMS}
        self.ml_tags: set[str] = set()
        self.stage_tags: dict[str, set[str]] = {}
        for key, spec in rules.terms.items():
            tags = {t.lower() for t in spec.get("tags", [])}
            if key.family == "platforms":
                if key.label in self.platform_tags or key.label == "kernel":
                    self.platform_tags["jupyter" if key.label == "kernel" else key.label] |= tags
            elif key.family == "ml":
                self.ml_tags |= tags
            else:
                self.stage_tags.setdefault(key.label, set()).update(tags)
        self.fallback_stage = fallback_stage

    def guess(self, tags: list[str]) -> Guess:
        """Labels from this question's tags."""
        tagset = {t.lower() for t in tags}
        platforms = [p for p in PLATFORMS if tagset & self.platform_tags[p]]
        ml = bool(tagset & self.ml_tags)
        counts = {s: len(tagset & t) for s, t in self.stage_tags.items() if tagset & t}
        stage = max(counts, key=lambda s: (counts[s], s == self.fallback_stage)) if counts else self.fallback_stage
        return Guess(platforms, ml, stage if ml else "none")


class KeywordAnywhere:
    """A substring anywhere in title + body decides: no tokens, no context, no code/prose split."""

    def __init__(self, spec: dict, fallback_stage: str) -> None:
        self.spec = spec["keyword"]
        self.fallback_stage = fallback_stage

    def guess(self, title: str, body: str) -> Guess:
        """Labels from the raw lower-cased text."""
        text = f"{title}\n{body}".lower()
        platforms = [p for p in PLATFORMS if any(k in text for k in self.spec["platforms"].get(p, []))]
        ml = any(k in text for k in self.spec["ml"])
        counts = Counter({s: sum(text.count(k) for k in words) for s, words in self.spec["stages"].items()})
        best = [s for s, n in counts.most_common(1) if n > 0]
        stage = best[0] if best else self.fallback_stage
        return Guess(platforms, ml, stage if ml else "none")
