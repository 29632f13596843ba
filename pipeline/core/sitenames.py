"""What a site name may be: the name of a Stack Exchange site, as its dump archive is named.

A site name becomes a value in every table and part of file names (archives in data/raw, staged
parts), so one that is not a plain host name is refused where a user types it (`acquire SITE`,
`ingest --site`): `../../x` would name files outside their folder. A name taken from a folder or
file that is safe but does not look like a site (`ai-2016-12`, a typo) is loaded with a warning:
it becomes a site of its own, beside the real one.
"""

from __future__ import annotations

import re

# Letters, digits, dots and hyphens, starting with a letter or digit: no path separators, no `..`
# at the start, nothing a shell or SQL would read specially.
SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")
# Like every Stack Exchange site: dot-separated lower-case labels ending in a top-level domain
# (stackoverflow.com, ai.stackexchange.com, meta.mathoverflow.net, ru.stackoverflow.com).
PLAUSIBLE = re.compile(r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def is_site_name(name: str) -> bool:
    """Safe as a site name (may still not look like one)."""
    return bool(SITE.match(name)) and len(name) <= 253


def looks_like_a_site(name: str) -> bool:
    """Shaped like a Stack Exchange site's host name."""
    return bool(PLAUSIBLE.match(name)) and len(name) <= 253
