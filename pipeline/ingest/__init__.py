"""Ingest: Stack Exchange dumps (XML folders, .7z archives, SEDE CSV) → the dump tables."""

from pipeline.core.step import Step

STEP = Step(
    name="ingest",
    # Stored with every ingested file (dumps.pipeline_version); bump when parsing or the dump
    # tables change. 2: `&amp;` stored as `&` (ingest-1 stored `&#38;`). 3: rows carry dump_key
    # (the site's snapshot number, fixed before parsing), dump_id only in `dumps` (issue 14).
    version="ingest-3",
    package="pipeline.ingest",
    summary="row-line chunks on all cores, compiled tokenizer (lxml when unsure) → Arrow streams inserted while later chunks parse, one transaction per run",
    reads=("`.7z` dumps, XML site folders, SEDE CSV exports",),
    writes=("dumps", "posts", "post_tags", "users", "comments", "tags", "post_links", "post_history", "votes", "badges"),
    rules=("rules/watermarks.v1.csv", "rules/bots.v1.csv"),
    command="stackmine ingest SOURCE...",
    entry="pipeline.ingest.load:ingest",
    per="sources",
    has_tables=True,
)
