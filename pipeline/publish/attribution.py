"""CC BY-SA attribution for exported posts, and its opposite: pseudonymised authors.

Stack Exchange content may be republished only with a link to each post, its author's name and
profile, and the CC BY-SA version it was contributed under. Newer dumps say the version per post
(`ContentLicense`); for older ones it follows from the post date by Stack Exchange's published
rule, kept as data in `pipeline/publish/rules/licenses.v1.csv` so a reviewer can check it.

Analyses that need no attribution can instead get pseudonymised authors: user ids become salted
hashes (the salt is chosen by the caller, or at random, and never written anywhere, so they cannot
be reversed by re-hashing known ids), and names and profile links are left out. The post link
stays, for attribution, and with it a way back to the author: anyone can look a post up on the
site or in the public dump. Pseudonymising keeps names out of shared files; it does not anonymise.
"""

from __future__ import annotations

import csv
import hashlib
import secrets
from importlib import resources

import pyarrow as pa

LICENSE_RULES = "licenses.v1.csv"

# Columns that name or locate a user; pseudonymisation touches exactly these.
AUTHOR_ID = "author_user_id"
AUTHOR_NAME = "author_display_name"
AUTHOR_URL = "author_profile_url"


def license_rules() -> pa.Table:
    """The date → license table (license, valid_from, valid_until, url) from the rules file."""
    text = (resources.files("pipeline.publish") / "rules" / LICENSE_RULES).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    return pa.table(
        {
            "license": [r["license"] for r in rows],
            "valid_from": pa.array([r["valid_from"] for r in rows]).cast(pa.timestamp("us")),
            "valid_until": pa.array([r["valid_until"] for r in rows]).cast(pa.timestamp("us")),
            "url": [r["url"] for r in rows],
        }
    )


def new_salt() -> str:
    """A random salt for one pseudonymised export (32 hex characters, 128 bits)."""
    return secrets.token_hex(16)


def pseudonym(salt: str, site: str, user_id: object) -> int:
    """Salted hash of one user id, as a BIGINT of at most -2 so it is never a real id (the dumps'
    ids are positive, and -1 is the Community user); the site is mixed in because ids repeat
    across sites. The column keeps its type, BIGINT, with and without pseudonymising."""
    digest = hashlib.sha256(f"{salt}\x1f{site}\x1f{user_id}".encode("utf-8")).hexdigest()
    return -(2 + int(digest[:15], 16))


def pseudonymise(table: pa.Table, salt: str) -> pa.Table:
    """Replace author ids with salted pseudonyms; empty author names and profile URLs.

    One author keeps one pseudonym across rows (and across exports made with the same salt).
    Names are dropped rather than hashed: a name hash would link a deleted user's posts, and the
    profile URL contains the real id. Deleted users (no id) are left without any author value.
    """
    sites = table.column("site").to_pylist()
    ids = table.column(AUTHOR_ID).to_pylist()
    new_ids = [None if uid is None else pseudonym(salt, site, uid) for site, uid in zip(sites, ids)]
    table = _replace(table, AUTHOR_ID, pa.array(new_ids, pa.int64()))
    table = _replace(table, AUTHOR_NAME, pa.nulls(table.num_rows, pa.string()))
    return _replace(table, AUTHOR_URL, pa.nulls(table.num_rows, pa.string()))


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, pa.field(name, values.type), values)
