"""Versioned rule files → one scanner that finds every lexicon term in a question.

The three rule families (platforms, ml, stages) live as reviewed YAML in `pipeline/rules/`. This
module turns them into matchers once: a tag index, a spaCy `PhraseMatcher` over lower-cased word
tokens of title, prose and inline code, and anchored regexes over code (codepatterns.py). Deciding
labels from the hits is `pipeline/decide.py`'s job, so the same hits can be audited as evidence.

Prose goes through `Doc(vocab, words=...)` built from a regex tokenizer rather than spaCy's
rule-based tokenizer: the lexicon is matched on lower-cased word tokens either way, and building
the Doc from words is about three times faster (measured on the SEDE questions); see
bench/classify.py for the speed of the whole stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from itertools import groupby
from typing import NamedTuple

import spacy
import yaml
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from pipeline.codepatterns import WORD_RE, CodePattern, RuleError, by_anchor, compile_pattern, expand

FAMILIES = ("platforms", "ml", "stages")
TOKEN_RE = re.compile(r"[a-z0-9_]+(?:[-'.+#/][a-z0-9_]+)*|[^\sa-z0-9_]")
GAP = "\u2026"  # stands for a run of words no lexicon entry uses
# Long tracebacks and data dumps add nothing after their first screens but cost scan time.
MAX_CODE_CHARS = 30_000


class Hit(NamedTuple):
    """One lexicon term found in one place of a question."""

    family: str  # platforms | ml | stages
    label: str  # platform / "kernel" / "ml" / stage name
    strength: str  # strong | weak | kernel | vscode
    place: str  # tags | title | prose | inline | code
    term: str  # the tag, the phrase, or the matched code text


@dataclass(frozen=True)
class Key:
    """Where a term belongs: family, label, strength."""

    family: str
    label: str
    strength: str


@dataclass
class Rules:
    """The loaded rule files, plus the few decision parameters they carry."""

    raw: dict[str, dict]
    version: str
    terms: dict[Key, dict] = field(default_factory=dict)


def load_rules(versions: dict[str, str] | None = None) -> Rules:
    """Read `pipeline/rules/<family>.<version>.yaml` for each family (default: v1)."""
    versions = versions or {f: "v1" for f in FAMILIES}
    raw: dict[str, dict] = {}
    for family in FAMILIES:
        text = (resources.files("pipeline") / "rules" / f"{family}.{versions[family]}.yaml").read_text("utf-8")
        raw[family] = yaml.safe_load(text)
        _check_strings(raw[family], f"pipeline/rules/{family}.{versions[family]}.yaml")
    rules = Rules(raw=raw, version="+".join(raw[f]["version"] for f in FAMILIES))
    _collect_terms(rules)
    return rules


def _check_strings(node: object, path: str, where: str = "") -> None:
    """YAML reads bare `on`, `no`, `null` as booleans/None; a term must be text, so say where."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "patterns":  # spaCy Matcher token patterns: dicts, checked by spaCy itself
                _check_strings(value, path, f"{where}/{key}")
    elif isinstance(node, list):
        for item in node:
            if not isinstance(item, str):
                raise RuleError(f"{path}: {where} has {item!r}, not text. Quote it in the file, e.g. 'on'.")


def _collect_terms(rules: Rules) -> None:
    """Flatten each family's nested YAML into {Key: {"tags": [...], "phrases": [...], ...}}."""
    plat = rules.raw["platforms"]
    rules.terms[Key("platforms", "kernel", "kernel")] = plat["kernel"]
    for label, groups in plat["platforms"].items():
        for strength, spec in groups.items():
            rules.terms[Key("platforms", label, strength)] = spec
    ml = rules.raw["ml"]
    for strength in ("strong", "weak"):
        rules.terms[Key("ml", "ml", strength)] = ml[strength]
    for label, groups in rules.raw["stages"]["stages"].items():
        for strength, spec in groups.items():
            rules.terms[Key("stages", label, strength)] = spec


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, the unit phrases are matched on (same for lexicon and text)."""
    return TOKEN_RE.findall(text.lower())


class Scanner:
    """Finds every term of every family in a question's tags, title, prose, inline code and code."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.vocab = spacy.blank("en").vocab
        self.matcher = PhraseMatcher(self.vocab, attr="ORTH")
        self.token_matcher = Matcher(self.vocab)
        self.tag_index: dict[str, list[Key]] = {}
        self.keys: dict[int, Key] = {}
        self.filters: dict[Key, tuple[frozenset[str], frozenset[str]]] = {}
        self.code_res: dict[str, list[CodePattern]] = {f: [] for f in FAMILIES}
        for key, spec in rules.terms.items():
            for tag in spec.get("tags", []):
                self.tag_index.setdefault(tag.lower(), []).append(key)
            self._add_phrases(key, spec)
            for pattern in spec.get("code", []):
                self.code_res[key.family].extend(compile_pattern(part, key) for part in expand(pattern))
        # Patterns grouped by anchor, so each anchor is looked for once per text.
        self.code_groups = by_anchor([p for f in FAMILIES for p in self.code_res[f]])
        self.prose_groups = by_anchor(self.code_res["platforms"])
        self.lexicon_words = self._lexicon_words(rules)

    @staticmethod
    def _lexicon_words(rules: Rules) -> frozenset[str]:
        """Every token of every phrase and filter word: the only words the matchers look at."""
        found: set[str] = set()
        for spec in rules.terms.values():
            for text in spec.get("phrases", []) + spec.get("not_followed_by", []) + spec.get("not_preceded_by", []):
                found.update(tokens(text))
            for pattern in spec.get("patterns", []):
                for token in pattern:
                    values = token.get("ORTH", token.get("LOWER"))
                    values = values.get("IN", []) if isinstance(values, dict) else [values] if values else []
                    found.update(v for v in values if isinstance(v, str))
        return frozenset(found)

    def _add_phrases(self, key: Key, spec: dict) -> None:
        phrases, patterns = spec.get("phrases", []), spec.get("patterns", [])
        if not phrases and not patterns:
            return
        name = f"{key.family}|{key.label}|{key.strength}"
        match_id = self.vocab.strings.add(name)
        self.keys[match_id] = key
        if phrases:
            self.matcher.add(name, [Doc(self.vocab, words=tokens(p)) for p in phrases])
        if patterns:
            self.token_matcher.add(name, patterns)
        after, before = spec.get("not_followed_by", []), spec.get("not_preceded_by", [])
        if after or before:
            self.filters[key] = (frozenset(after), frozenset(before))

    def scan(self, title: str, prose: str, inline_code: list[str], code: str, tag_list: list[str]) -> list[Hit]:
        """All hits of one question; a term found twice in the same place is reported once."""
        hits: set[Hit] = set()
        for tag in tag_list:
            for key in self.tag_index.get(tag.lower(), ()):
                hits.add(Hit(key.family, key.label, key.strength, "tags", tag))
        self._scan_words(hits, title, prose, inline_code)
        self._scan_code(hits, code, inline_code, prose)
        if not code.strip():
            # A question without a code block is usually conceptual (which approach, what does
            # this mean): a structural signal the stage rules may use, shown as "shape:no code".
            hits.add(Hit("shape", "no-code", "weak", "shape", "no code"))
        return list(hits)

    def _scan_words(self, hits: set[Hit], title: str, prose: str, inline_code: list[str]) -> None:
        words: list[str] = []
        places: list[str] = []
        lexicon, gap = self.lexicon_words, GAP
        for place, text in (("title", title), ("prose", prose), ("inline", " ; ".join(inline_code))):
            # Words no phrase or filter uses become gap tokens, and runs of them one gap: phrases
            # cannot match across a gap, and the Doc is far shorter (building it is the main cost).
            kept = [w if w in lexicon else gap for w in TOKEN_RE.findall(text.lower())]
            kept = [w for w, _run in groupby(kept)]
            kept.append(gap)
            words.extend(kept)
            places.extend([place] * len(kept))
        doc = Doc(self.vocab, words=words)
        matches = self.matcher(doc)
        if len(self.token_matcher):
            matches += self.token_matcher(doc)
        for match_id, start, end in matches:
            key = self.keys[match_id]
            if key in self.filters and _filtered(words, start, end, self.filters[key]):
                continue
            term = " ".join(words[start:end])
            hits.add(Hit(key.family, key.label, key.strength, places[start], term))

    def _scan_code(self, hits: set[Hit], code: str, inline_code: list[str], prose: str) -> None:
        # Inline code is code: its regex hits are reported as code, its words as "inline".
        # Platform signs also run over prose: old posts paste tracebacks and prompts as text.
        code_text = code[:MAX_CODE_CHARS] + "\n" + "\n".join(inline_code)
        for text, place, (by_word, by_substring) in ((code_text, "code", self.code_groups),
                                                      (prose[:MAX_CODE_CHARS], "prose", self.prose_groups)):
            if not text.strip():
                continue
            candidates = [group for word in set(WORD_RE.findall(text)) & by_word.keys() for group in by_word[word]]
            candidates += [group for group in by_substring if group[0] in text]
            for anchor, patterns in candidates:
                if anchor not in text:
                    continue
                for pattern in patterns:
                    key = pattern.key
                    for m in pattern.regex.finditer(text):
                        hits.add(Hit(key.family, key.label, key.strength, place, m.group(0).strip()[:60]))


def _filtered(words: list[str], start: int, end: int, rule: tuple[frozenset[str], frozenset[str]]) -> bool:
    after, before = rule
    if end < len(words) and words[end] in after:
        return True
    return start > 0 and words[start - 1] in before
