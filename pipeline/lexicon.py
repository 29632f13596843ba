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
from itertools import groupby
from typing import NamedTuple

import spacy
import yaml
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from pipeline.errors import StackmineError

FAMILIES = ("platforms", "ml", "stages")
TOKEN_RE = re.compile(r"[a-z0-9_]+(?:[-'.+#/][a-z0-9_]+)*|[^\sa-z0-9_]")
GAP = "\u2026"  # stands for a run of words no lexicon entry uses
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
        # Patterns grouped by anchor, so each anchor is looked for once per text.
        self.code_groups = _by_anchor([p for f in FAMILIES for p in self.code_res[f]])
        self.prose_groups = _by_anchor(self.code_res["platforms"])
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


def _by_anchor(patterns: list["CodePattern"]) -> tuple[dict[str, list[tuple[str, list]]], list[tuple[str, list]]]:
    """Patterns grouped by anchor, indexed by their whole word when they have one.

    A question's code is tokenised into \\w+ runs once; a set intersection with the index keys
    then picks the few anchors worth a substring test, instead of testing every anchor.
    """
    groups: dict[tuple[str, str], list[CodePattern]] = {}
    for pattern in patterns:
        groups.setdefault((pattern.anchor, pattern.word), []).append(pattern)
    by_word: dict[str, list[tuple[str, list]]] = {}
    by_substring: list[tuple[str, list]] = []
    for (anchor, word), members in groups.items():
        if word:
            by_word.setdefault(word, []).append((anchor, members))
        else:
            by_substring.append((anchor, members))
    return by_word, by_substring


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
    word: str  # a whole word every match contains (set lookup), or "" to test `anchor` as a substring


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
    anchor = literal_anchor(pattern)
    return CodePattern(regex, key, anchor, interior_word(anchor) or leading_word(pattern))


def interior_word(anchor: str) -> str:
    """The longest \\w+ run of the anchor with a non-word character of the anchor on both sides:
    any text containing the anchor contains that run as a whole word (e.g. "ipython" in
    "<ipython-input-")."""
    inner = [m.group(0) for m in WORD_RE.finditer(anchor) if m.start() > 0 and m.end() < len(anchor)]
    return max(inner, key=len) if inner else ""


WORD_RE = re.compile(r"\w+")


def leading_word(pattern: str) -> str:
    """The word a pattern like `\\bStandardScaler\\(` starts with, when every match has it whole.

    Whole means: `\\b` before it and a literal non-word character right after it, so the text's
    set of \\w+ runs must contain it; a set lookup is much cheaper than a substring search.
    """
    if not pattern.startswith("\\b"):
        return ""
    found = re.match(r"[A-Za-z_][A-Za-z0-9_]*", pattern[2:])
    if not found:
        return ""
    after = pattern[2 + found.end():2 + found.end() + 2]
    escaped_punct = len(after) == 2 and after[0] == "\\" and not after[1].isalnum() and after[1] != "_"
    plain_punct = bool(after) and after[0] not in _META and not after[0].isalnum() and after[0] != "_"
    boundary = after == "\\b"
    return found.group(0) if escaped_punct or plain_punct or boundary else ""


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
