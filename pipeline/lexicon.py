"""Versioned rule files → one scanner that finds every lexicon term in a question.

The three rule families (platforms, ml, stages) live as reviewed YAML in `pipeline/rules/`. This
module turns them into matchers once: a tag index, a spaCy `PhraseMatcher` over lower-cased word
tokens of title, prose and inline code, and one compiled regex per family over code. Deciding
labels from the hits is `pipeline/decide.py`'s job, so the same hits can be audited as evidence.

Prose goes through `Doc(vocab, words=...)` built from a regex tokenizer rather than spaCy's
rule-based tokenizer: the lexicon is matched on lower-cased word tokens either way, and building
the Doc from words is about three times faster (measured on the SEDE questions), which is what
keeps classification above 5,000 questions/s per core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import NamedTuple

import spacy
import yaml
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from pipeline.errors import StackmineError

FAMILIES = ("platforms", "ml", "stages")
TOKEN_RE = re.compile(r"[a-z0-9_]+(?:[-'.+#/][a-z0-9_]+)*|[^\sa-z0-9_]")
# Long tracebacks and data dumps add nothing after their first screens but cost scan time.
MAX_CODE_CHARS = 30_000


class RuleError(StackmineError):
    """A rule file is malformed (a term that is not text, a regex that does not compile)."""


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
                self.code_res[key.family].extend(_compile(part, key) for part in expand(pattern))

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
        return sorted(hits)

    def _scan_words(self, hits: set[Hit], title: str, prose: str, inline_code: list[str]) -> None:
        parts = [("title", tokens(title)), ("prose", tokens(prose)), ("inline", tokens(" ; ".join(inline_code)))]
        words: list[str] = []
        places: list[str] = []
        for place, toks in parts:
            words.extend(toks)
            places.extend([place] * len(toks))
            words.append("\n")
            places.append(place)
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
        jobs = [(code[:MAX_CODE_CHARS], "code", FAMILIES), ("\n".join(inline_code), "code", FAMILIES),
                (prose[:MAX_CODE_CHARS], "prose", ("platforms",))]
        for text, place, families in jobs:
            if not text:
                continue
            for family in families:
                for pattern in self.code_res[family]:
                    if pattern.anchor not in text:
                        continue
                    key = pattern.key
                    for m in pattern.regex.finditer(text):
                        hits.add(Hit(key.family, key.label, key.strength, place, m.group(0).strip()[:60]))


def _filtered(words: list[str], start: int, end: int, rule: tuple[frozenset[str], frozenset[str]]) -> bool:
    after, before = rule
    if end < len(words) and words[end] in after:
        return True
    return start > 0 and words[start - 1] in before


class CodePattern(NamedTuple):
    """A compiled code regex, its label, and a substring every match contains."""

    regex: re.Pattern[str]
    key: Key
    anchor: str


def _compile(pattern: str, key: Key) -> CodePattern:
    """Compile one code pattern with its anchor, naming the pattern if it does not compile.

    Python's regex engine tries every position of a long traceback; checking first that the
    pattern's longest required literal occurs at all (a C-speed substring search) skips almost
    every pattern for almost every question — measured 10x faster than one big alternation.
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"code pattern {pattern!r} of {key.family}/{key.label} does not compile: {exc}") from exc
    return CodePattern(regex, key, literal_anchor(pattern))


def expand(pattern: str) -> list[str]:
    """Split a pattern into alternatives that each have a literal anchor.

    `a|b` becomes [a, b] and `\\b(?:x|y)rest` becomes [\\bxrest, \\byrest]; a global flag like
    (?m) is kept on every part. Same matches, but each part can be skipped by a substring test.
    """
    flags = re.match(r"^\(\?[aimsx]+\)", pattern)
    prefix = flags.group(0) if flags else ""
    body = pattern[len(prefix):]
    parts: list[str] = []
    for part in _split_top(body, 0):
        found = re.match(r"^(\\b)?\(\?:", part)
        close = _closing(part, found.end() - 3) if found else -1
        if found and close > 0 and (close + 1 == len(part) or part[close + 1] not in "?*+{"):
            inner = part[found.end():close]
            head, tail = found.group(1) or "", part[close + 1:]
            parts.extend(head + alt + tail for alt in _split_top(inner, 0))
        else:
            parts.append(part)
    return [prefix + p for p in parts]


def _split_top(text: str, _depth: int) -> list[str]:
    """Split at `|` that are not inside a group or a character class."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _closing(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at `open_at`, or -1."""
    depth, i = 0, open_at
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i
        i += 1
    return -1


_META = set(".^$*+?{}[]()|\\")


def literal_anchor(pattern: str) -> str:
    """The longest run of literal characters outside groups that every match must contain.

    Conservative: a top-level `|` means no anchor (""), which every text contains; a literal
    followed by an optional quantifier is not counted.
    """
    runs: list[str] = []
    run: list[str] = []
    depth, i = 0, 0
    while i < len(pattern):
        ch = pattern[i]
        literal = None
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            literal = nxt if not nxt.isalnum() else None
            i += 2
        else:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "|" and depth == 0:
                return ""
            elif ch == "[" and depth == 0:
                end = pattern.find("]", i + 2)
                i = end if end > 0 else i
            literal = ch if ch not in _META and depth == 0 else None
            i += 1
        optional = i < len(pattern) and pattern[i] in "?*{"
        if literal is not None and depth == 0 and not optional:
            run.append(literal)
        else:
            runs.append("".join(run))
            run = []
    runs.append("".join(run))
    return max(runs, key=len)
