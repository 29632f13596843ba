"""`&amp;` in a dump is the character `&` in the database (lxml's SAX mode without entity resolution
handed it over as the text "&#38;": every & in a title or body was stored as &#38;)."""

from __future__ import annotations


def test_amp_entity_decodes_to_ampersand(sample_con) -> None:
    site = "ai.stackexchange.com"
    title = sample_con.execute("SELECT title FROM posts WHERE site = ? AND id = 1288", [site]).fetchone()
    assert title == ("Did Minsky & Papert know that multilayer perceptrons could solve XOR?",)
    leftover = sample_con.execute("SELECT count(*) FROM posts WHERE site = ? AND (body LIKE '%&#38;%' "
                                  "OR title LIKE '%&#38;%')", [site]).fetchone()
    assert leftover == (0,)
