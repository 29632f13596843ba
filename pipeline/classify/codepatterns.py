"""Code patterns of the rule files, compiled so that thousands of questions per second can be scanned.

Python's regex engine tries every position of a long traceback, and one big alternation of all
patterns defeats its literal-prefix search. So each pattern is split into alternatives
(`expand`), each alternative gets an anchor — a literal every match contains (`literal_anchor`),
or better a whole word (`interior_word`, `leading_word`) looked up in the set of the text's words —
and a pattern's regex only runs on texts that contain its anchor (`by_anchor`).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pipeline.core.errors import StackmineError


class RuleError(StackmineError):
    """A rule file is malformed (a term that is not text, a regex that does not compile)."""


class CodePattern(NamedTuple):
    """A compiled code regex, its label, and a substring every match contains."""

    regex: re.Pattern[str]
    key: object  # pipeline.classify.lexicon.Key
    anchor: str
    word: str  # a whole word every match contains (set lookup), or "" to test `anchor` as a substring


def compile_pattern(pattern: str, key) -> CodePattern:
    """Compile one code pattern with its anchor, naming the pattern if it does not compile.

    Python's regex engine tries every position of a long traceback; checking first that the
    pattern's longest required literal occurs at all (a C-speed substring search) skips almost
    every pattern for almost every question, far faster than one big alternation.
    """
    try:
        re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"code pattern {pattern!r} of {key.family}/{key.label} does not compile: {exc}") from exc
    regex = re.compile(literal_first(pattern))
    anchor = literal_anchor(pattern)
    return CodePattern(regex, key, anchor, interior_word(anchor) or leading_word(pattern))


def interior_word(anchor: str) -> str:
    """The longest \\w+ run of the anchor with a non-word character of the anchor on both sides:
    any text containing the anchor contains that run as a whole word (e.g. "ipython" in
    "<ipython-input-")."""
    inner = [m.group(0) for m in WORD_RE.finditer(anchor) if m.start() > 0 and m.end() < len(anchor)]
    return max(inner, key=len) if inner else ""


WORD_RE = re.compile(r"\w+")
_FLAGS_RE = re.compile(r"^\(\?[aimsx]+\)")
_QUANTIFIERS = "?*+{"


def literal_first(pattern: str) -> str:
    """`\\bimport x` rewritten as `import (?<!\\wimport )x`: the same matches, found much faster.

    Python's regex engine skips ahead with a C substring search only when a pattern starts with
    a literal; a leading `\\b` disables that, and it then tries a full match at every position
    of the text (measured 20x slower on code blocks). For a literal starting with a word
    character, `\\b` before it says "no word character before the literal", which a negative
    lookbehind right after the literal says as well: same start, same end, same matches.
    Patterns of any other shape (or case-insensitive, verbose) are returned unchanged.
    """
    flags = _FLAGS_RE.match(pattern)
    prefix = flags.group(0) if flags else ""
    body = pattern[len(prefix):]
    if "i" in prefix or "x" in prefix or not body.startswith("\\b"):
        return pattern
    i = 2
    while i < len(body):
        step = 2 if body[i] == "\\" else 1
        if step == 2 and (i + 1 >= len(body) or body[i + 1].isalnum()) or step == 1 and body[i] in _META:
            break  # a class like \\d or a metacharacter: the literal run ends here
        if i + step < len(body) and body[i + step] in _QUANTIFIERS:
            break  # this character is optional or repeated: not part of the run
        i += step
    literal = body[2:i]
    first = literal[1:2] if literal.startswith("\\") else literal[:1]
    if not first or not (first.isascii() and (first.isalnum() or first == "_")):
        return pattern
    return f"{prefix}{literal}(?<!\\w{literal}){body[i:]}"


def word_finder(words: frozenset[str]) -> re.Pattern[str]:
    """A regex whose findall gives the text's \\w+ runs that start like one of `words` does.

    Intersecting those with `words` gives what intersecting all \\w+ runs would, but the regex
    engine skips to the few possible first characters in C and builds a third fewer strings.
    The lookbehind (after the first character) says the run starts there: no word character before.
    """
    firsts = "".join(sorted({word[0] for word in words}))
    return re.compile(f"[{re.escape(firsts)}](?<!\\w.)\\w*" if firsts else "(?!)")


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


def by_anchor(patterns: list["CodePattern"]) -> tuple[dict[str, list[tuple[str, list]]], list[tuple[str, list]]]:
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
