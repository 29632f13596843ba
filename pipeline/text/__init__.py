"""Text: question HTML → title, prose, code, inline code, links, kept apart and parsed once."""

from pipeline.core.step import Step

STEP = Step(
    name="text",
    version="text-v1",
    package="pipeline.text",
    summary="HTML → prose, code, inline code, links",
    reads=("posts",),
    writes=("question_text",),
    command="stackmine text [--site S] [--workers N]",
    entry="pipeline.text.extract:run",
    has_tables=True,
)
