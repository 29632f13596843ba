"""Pure parts of an export: the CC BY-SA date rule, pseudonyms, and coding-sample allocation."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from pipeline.publish import attribution
from pipeline.publish.coding_sample import allocate, stratum_of


@pytest.mark.parametrize(
    ("created", "license"),
    [
        ("2008-07-31 21:42:52", "CC BY-SA 2.5"),   # Stack Overflow's first question
        ("2011-04-07 23:59:59.999", "CC BY-SA 2.5"),
        ("2011-04-08 00:00:00", "CC BY-SA 3.0"),   # the change date is 3.0 already
        ("2016-08-02 15:39:14.947", "CC BY-SA 3.0"),
        ("2018-05-01 23:59:59", "CC BY-SA 3.0"),
        ("2018-05-02 00:00:00", "CC BY-SA 4.0"),
        ("2022-04-18 12:44:51", "CC BY-SA 4.0"),
    ],
)
def test_license_by_post_date_follows_stack_exchange_rule(created: str, license: str) -> None:
    con = duckdb.connect()
    con.register("license_rules", attribution.license_rules())
    found = con.execute(
        "SELECT license, url FROM license_rules WHERE ?::TIMESTAMP >= valid_from AND ?::TIMESTAMP < valid_until",
        [created, created],
    ).fetchall()
    version = license.split()[-1]
    assert found == [(license, f"https://creativecommons.org/licenses/by-sa/{version}/")]


def test_pseudonyms_are_salted_per_site_and_stable() -> None:
    a = attribution.pseudonym("s1", "ai.stackexchange.com", 8)
    assert a == attribution.pseudonym("s1", "ai.stackexchange.com", 8)
    assert a != attribution.pseudonym("s2", "ai.stackexchange.com", 8)
    assert a != attribution.pseudonym("s1", "stackoverflow.com", 8)
    assert isinstance(a, int) and -(2 ** 63) <= a <= -2  # a BIGINT that is never a real id (-1 is Community)


def test_pseudonymise_replaces_ids_and_empties_names_and_urls() -> None:
    table = pa.table({
        "site": ["a.com", "a.com", "a.com"],
        "author_user_id": pa.array([8, None, 8], pa.int64()),
        "author_display_name": ["kenorb", "deleted-user", "kenorb"],
        "author_profile_url": ["https://a.com/users/8", None, "https://a.com/users/8"],
    })
    out = attribution.pseudonymise(table, "salt")
    known = attribution.pseudonym("salt", "a.com", 8)
    assert out.schema == table.schema  # author_user_id stays BIGINT
    assert out.to_pydict()["author_user_id"] == [known, None, known]
    assert out.to_pydict()["author_display_name"] == [None, None, None]
    assert out.to_pydict()["author_profile_url"] == [None, None, None]


def test_allocation_gives_every_stratum_one_then_shares_proportionally() -> None:
    sizes = {("jupyter", "model-training"): 50, ("colab", "environment"): 30, ("kaggle", "deployment"): 2,
             ("none", "model-training"): 18}
    counts = allocate(sizes, 10)
    # 4 guaranteed, 6 left over spare sizes 49/29/1/17 (of 96): quotas 3.06, 1.81, 0.06, 1.06
    assert counts == {("colab", "environment"): 3, ("jupyter", "model-training"): 4,
                      ("kaggle", "deployment"): 1, ("none", "model-training"): 2}
    assert sum(counts.values()) == 10


def test_allocation_takes_everything_when_asked_for_more() -> None:
    sizes = {("jupyter", "environment"): 3, ("colab", "model-training"): 1}
    assert allocate(sizes, 100) == sizes


def test_allocation_with_fewer_draws_than_strata_favours_the_largest() -> None:
    sizes = {("a", "x"): 5, ("b", "x"): 9, ("c", "x"): 9, ("d", "x"): 1}
    assert allocate(sizes, 2) == {("a", "x"): 0, ("b", "x"): 1, ("c", "x"): 1, ("d", "x"): 0}


def test_stratum_is_first_sorted_platform_or_none() -> None:
    assert stratum_of(["jupyter", "colab"], "environment") == ("colab", "environment")
    assert stratum_of([], "none") == ("none", "none")
