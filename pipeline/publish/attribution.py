"""CC BY-SA attribution for exported posts, and its opposite: pseudonymised authors.

Stack Exchange content may be republished only with a link to each post, its author's name and
profile, and the CC BY-SA version it was contributed under. Newer dumps say the version per post
(`ContentLicense`); for older ones it follows from the post date by Stack Exchange's published
rule, kept as data in `pipeline/publish/rules/licenses.v1.csv` so a reviewer can check it.

Analyses that need no attribution can instead get salted hashes of user ids and names: the salt
is chosen by the caller (or at random) and never written anywhere, so the hashes cannot be
reversed by re-hashing known ids.
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


def pseudonym(salt: str, site: str, value: object) -> str:
    """Salted hash of one user id or name; the site is mixed in because ids repeat across sites."""
    digest = hashlib.sha256(f"{salt}\x1f{site}\x1f{value}".encode("utf-8")).hexdigest()
    return "user-" + digest[:16]


def pseudonymise(table: pa.Table, salt: str) -> pa.Table:
    """Replace author id and display name with salted hashes and drop the profile URL.

    The id and the name hash to the same pseudonym when the user is known (the name is then
    derived from the id), so one author keeps one identity across rows; deleted users, who have
    only a name, get the hash of that name. The profile URL contains the id, so it becomes NULL.
    """
    sites = table.column("site").to_pylist()
    ids = table.column(AUTHOR_ID).to_pylist()
    names = table.column(AUTHOR_NAME).to_pylist()
    new_ids = [None if uid is None else pseudonym(salt, site, uid) for site, uid in zip(sites, ids)]
    new_names = [
        new_id if new_id is not None else (None if name is None else pseudonym(salt, site, f"name:{name}"))
        for site, new_id, name in zip(sites, new_ids, names)
    ]
    table = _replace(table, AUTHOR_ID, pa.array(new_ids, pa.string()))
    table = _replace(table, AUTHOR_NAME, pa.array(new_names, pa.string()))
    return _replace(table, AUTHOR_URL, pa.nulls(table.num_rows, pa.string()))


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, pa.field(name, values.type), values)
