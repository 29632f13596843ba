"""Acquire: download dump archives from a mirror into data/raw/<dump-date>/, resumably, verified."""

from pipeline.core.step import Step

STEP = Step(
    name="acquire",
    version="acquire-1",
    package="pipeline.acquire",
    summary="download with resume, verify SHA-256; data/raw/<dump-date>/ is read-only",
    reads=("a mirror (`BASE/<site>.7z`) or a folder, an optional SHA-256 list",),
    writes=("`data/raw/<dump-date>/<site>.7z` (read-only)",),
    command="stackmine acquire SITE... --mirror URL",
    entry="pipeline.acquire.fetch:acquire",
    per="sources",
    chain=False,
)
