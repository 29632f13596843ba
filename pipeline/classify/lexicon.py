"""Versioned rule files → one scanner that finds every lexicon term in a question.

The three rule families (platforms, ml, stages) live as reviewed YAML in `pipeline/classify/rules/`. This
module turns them into matchers once: a tag index, a spaCy `PhraseMatcher` over lower-cased word
tokens of title, prose and inline code, and anchored regexes over code (codepatterns.py). Deciding
labels from the hits is `pipeline/classify/decide.py`'s job, so the same hits can be audited as evidence.

Prose goes through `Doc(vocab, words=...)` built from a regex tokenizer rather than spaCy's
rule-based tokenizer: the lexicon is matched on lower-cased word tokens either way, and building
the Doc from words is about three times faster (measured on the SEDE questions). Only the words of
phrases whose every word occurs in the question enter the Doc (the rest become gap tokens), and
the words of up to 256 questions share one Doc and one matcher call (`scan_many`): a Doc has a
fixed cost of about a question's matching time. See bench/classify.py for the speed of the stage
and tests/classify/test_sample_labels.py for the guarantee that none of this changes a label.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from itertools import chain, groupby
from operator import itemgetter
from typing import NamedTuple

import spacy
import yaml
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from pipeline.classify.codepatterns import CodePattern, RuleError, by_anchor, compile_pattern, expand, word_finder

FAMILIES = ("platforms", "ml", "stages")
TOKEN_RE = re.compile(r"[a-z0-9_]+(?:[-'.+#/][a-z0-9_]+)*|[^\sa-z0-9_]")
GAP = "\u2026"  # stands for a run of words no lexicon entry uses
# Long tracebacks and data dumps add nothing after their first screens but cost scan time.
MAX_CODE_CHARS = 30_000
# Questions whose word tokens share one spaCy Doc (about 40 tokens each: a few MB of Doc).
DOC_QUESTIONS = 256
_first = itemgetter(0)


Question = tuple[str, str, list[str], str, list[str]]  # title, prose, inline code, code, tags


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
    # platform phrases as their hits name them (tokens joined by spaces): with link evidence, these
    # mentions no longer count (pipeline.classify.decide.decide_platforms)
    platform_phrases: frozenset[str] = frozenset()


def load_rules(versions: dict[str, str] | None = None) -> Rules:
    """Read `pipeline/classify/rules/<family>.<version>.yaml` for each family (default: v1)."""
    versions = versions or {f: "v1" for f in FAMILIES}
    raw: dict[str, dict] = {}
    for family in FAMILIES:
        text = (resources.files("pipeline.classify") / "rules" / f"{family}.{versions[family]}.yaml").read_text("utf-8")
        raw[family] = yaml.safe_load(text)
        _check_strings(raw[family], f"pipeline/classify/rules/{family}.{versions[family]}.yaml")
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
    if "link" in plat:  # platforms v2: a shared notebook
        rules.terms[Key("platforms", "link", "link")] = {"phrases": plat["link"].get("phrases", [])}
    rules.platform_phrases = frozenset(" ".join(tokens(p)) for key, spec in rules.terms.items()
                                       if key.family == "platforms" and key.label != "link"
                                       for p in spec.get("phrases", []))
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
        self.code_words = frozenset(self.code_groups[0])
        self.code_word_re = word_finder(self.code_words)
        self.prose_words = frozenset(self.prose_groups[0])
        link = Key("platforms", "link", "link")
        self.link_urls = [compile_pattern(u, link) for u in rules.raw["platforms"].get("link", {}).get("urls", [])]
        self.lexicon_words = self._lexicon_words(rules)
        self.phrase_index, self.always_kept = self._phrase_index(rules)

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

    def _phrase_index(self, rules: Rules) -> tuple[dict[str, list[frozenset[str]]], frozenset[str] | None]:
        """Each phrase's token set, filed under its rarest token; and the words always kept.

        A phrase can only match when all its tokens occur in the question, so the other lexicon
        words can become gap tokens too (see `_relevant`). Filter words are always kept (they
        decide whether a match counts); with token patterns (which could match across any
        token) nothing is dropped: `always_kept` is None.
        """
        phrase_sets = [frozenset(tokens(p)) for spec in rules.terms.values() for p in spec.get("phrases", [])]
        phrase_sets = [p for p in phrase_sets if p]
        counts: dict[str, int] = {}
        for words in phrase_sets:
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        index: dict[str, list[frozenset[str]]] = {}
        for words in set(phrase_sets):
            rarest = min(words, key=lambda w: (counts[w], -len(w), w))
            index.setdefault(rarest, []).append(words)
        if any(spec.get("patterns") for spec in rules.terms.values()):
            return index, None
        kept: set[str] = set()
        for spec in rules.terms.values():
            for text in spec.get("not_followed_by", []) + spec.get("not_preceded_by", []):
                kept.update(tokens(text))
        return index, frozenset(kept)

    def _relevant(self, present: set[str]) -> set[str]:
        """The lexicon words of a question that some phrase fully present in it uses."""
        relevant: set[str] = set()
        index = self.phrase_index
        for word in present:
            for words in index.get(word, ()):
                if words <= present:
                    relevant |= words
        return relevant

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
        return self.scan_many([(title, prose, inline_code, code, tag_list)])[0]

    def scan_many(self, questions: Sequence[Question], present_out: list[set[str]] | None = None,
                  titles_out: list[list[str]] | None = None) -> list[list[Hit]]:
        """The hits of each question, as `scan` gives them, for many questions at once.

        The word tokens of up to DOC_QUESTIONS questions go into one spaCy Doc and one matcher
        call: building a Doc has a fixed cost of about as much as matching a whole question.
        `present_out`, when given, receives each question's set of lexicon words (title, prose,
        inline code; the set the phrase matching builds anyway), in order: the trained layer
        reads it (see `layer_words`), and finding it again would cost time for nothing. `titles_out`,
        when given, receives each question's title tokens (the list the phrase matching builds anyway).
        """
        found: list[set[Hit]] = []
        for title, prose, inline_code, code, tag_list in questions:
            hits: set[Hit] = set()
            for tag in tag_list:
                for key in self.tag_index.get(tag.lower(), ()):
                    hits.add(Hit(key.family, key.label, key.strength, "tags", tag))
            self._scan_code(hits, code, inline_code, prose)
            if not code or code.isspace():
                # A question without a code block is usually conceptual (which approach, what does
                # this mean): a structural signal the stage rules may use, shown as "shape:no code".
                hits.add(Hit("shape", "no-code", "weak", "shape", "no code"))
            found.append(hits)
        for first in range(0, len(questions), DOC_QUESTIONS):
            self._scan_words(found, questions, range(first, min(first + DOC_QUESTIONS, len(questions))), present_out,
                             titles_out)
        return [list(hits) for hits in found]

    def _scan_words(self, found: list[set[Hit]], questions: Sequence[Question], chunk: range,
                    present_out: list[set[str]] | None = None, titles_out: list[list[str]] | None = None) -> None:
        """Phrase hits of the questions in `chunk`, matched in one Doc of their word tokens.

        Each question's tokens end with a gap token, so no phrase spans two questions and a
        match's neighbours (for the filters) are the same as in a Doc of that question alone.
        """
        words: list[str] = []
        places: list[str] = []
        offsets: list[int] = []
        owners: list[int] = []
        for i in chunk:
            title, prose, inline_code = questions[i][:3]
            kept = self._words(title, prose, inline_code, present_out, titles_out)
            if kept:
                offsets.append(len(words))
                owners.append(i)
                words.extend(kept[0])
                places.extend(kept[1])
        if not words:
            return
        doc = Doc(self.vocab, words=words)
        matches = self.matcher(doc)
        if len(self.token_matcher):
            matches += self.token_matcher(doc)
        for match_id, start, end in matches:
            key = self.keys[match_id]
            if key in self.filters and _filtered(words, start, end, self.filters[key]):
                continue
            term = " ".join(words[start:end])
            found[owners[bisect_right(offsets, start) - 1]].add(
                Hit(key.family, key.label, key.strength, places[start], term))

    def layer_words(self, title: str, prose: str, inline_code: list[str]) -> tuple[list[str], set[str]]:
        """A question's title tokens, and the lexicon words in its title, prose and inline code
        (the set `_words` builds): the words the trained ml layer (pipeline/classify/learned.py) reads.
        Found again for the few questions the layer decides, not kept for all during the scan."""
        fields = [TOKEN_RE.findall(text.lower()) for text in (title, prose, " ; ".join(inline_code))]
        return fields[0], self.lexicon_words.intersection(chain.from_iterable(fields))

    def _words(self, title: str, prose: str, inline_code: list[str], present_out: list[set[str]] | None = None,
               titles_out: list[list[str]] | None = None) -> tuple[list[str], list[str]] | None:
        """The tokens the matchers see for one question, and the place of each; None when no
        phrase has all its words in the question (nothing can match)."""
        fields = [(place, TOKEN_RE.findall(text.lower()))
                  for place, text in (("title", title), ("prose", prose), ("inline", " ; ".join(inline_code)))]
        if titles_out is not None:
            titles_out.append(fields[0][1])
        if self.always_kept is None:
            keep: frozenset[str] | set[str] = self.lexicon_words
            if present_out is not None:
                present_out.append(self.lexicon_words.intersection(chain.from_iterable(t for _p, t in fields)))
        else:
            present = self.lexicon_words.intersection(chain.from_iterable(t for _p, t in fields))
            if present_out is not None:
                present_out.append(present)
            keep = self._relevant(present)
            if not keep:
                return None
            keep |= self.always_kept
        words: list[str] = []
        places: list[str] = []
        gap = GAP
        for place, toks in fields:
            # Words no phrase present here uses become gap tokens, and runs of them one gap:
            # phrases cannot match across a gap, and the Doc is far shorter (building it is the
            # main cost). Only the gaps' number changes, so matches and their neighbours do not.
            before = len(words)
            words.extend(map(_first, groupby([w if w in keep else gap for w in toks])))
            words.append(gap)
            places.extend([place] * (len(words) - before))
        return words, places

    def _scan_code(self, hits: set[Hit], code: str, inline_code: list[str], prose: str) -> None:
        # Inline code is code: its regex hits are reported as code, its words as "inline".
        # Platform signs also run over prose: old posts paste tracebacks and prompts as text.
        code_text = code[:MAX_CODE_CHARS] + "\n" + "\n".join(inline_code)
        for text, place, (by_word, by_substring) in ((code_text, "code", self.code_groups),
                                                      (prose[:MAX_CODE_CHARS], "prose", self.prose_groups)):
            if not text or text.isspace():
                continue
            if place == "code":
                words = self.code_words.intersection(self.code_word_re.findall(text))
            else:  # few index words: a substring test each beats splitting the prose into words
                if self.link_urls and "://" in text:
                    text = self._links(hits, text)
                words = [word for word in self.prose_words if word in text]
            # A group runs only when its anchor occurs (tested once per group).
            candidates = [group for word in words for group in by_word[word] if group[0] in text]
            candidates += [group for group in by_substring if group[0] in text]
            for _anchor, patterns in candidates:
                for pattern in patterns:
                    key = pattern.key
                    for m in pattern.regex.finditer(text):
                        hits.add(Hit(key.family, key.label, key.strength, place, m.group(0).strip()[:60]))


    def _links(self, hits: set[Hit], prose: str) -> str:
        """Link hits for notebook URLs in the prose, and the prose with every URL blanked out: a
        `.ipynb` or `/content/` inside a link is not a sign of working in a notebook."""
        for pattern in self.link_urls:
            if pattern.anchor in prose:  # every match contains its anchor: most prose has none of them
                for m in pattern.regex.finditer(prose):
                    hits.add(Hit("platforms", "link", "link", "prose", m.group(0)[:60]))
        return URL_RE.sub(" ", prose)


URL_RE = re.compile(r"https?://\S+")


def _filtered(words: list[str], start: int, end: int, rule: tuple[frozenset[str], frozenset[str]]) -> bool:
    after, before = rule
    if end < len(words) and words[end] in after:
        return True
    return start > 0 and words[start - 1] in before
