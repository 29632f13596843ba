"""Topics: BERTopic over a selection of labelled questions, offline and seeded."""

from pipeline.core.step import Step

# Default cap on the documents a topic model is fitted on (pipeline/topics/fit.py; here so the CLI
# can show it without importing the fit's libraries). Why 50,000: k is at its cap of 50 from 4,802
# documents, so more documents only refine the same 50 centres, while fitting time and memory grow
# with them (bench/topics.py; README "Performance").
DEFAULT_FIT_SAMPLE = 50_000

STEP = Step(
    name="topics",
    version="topics-1",
    package="pipeline.topics",
    summary="BERTopic on a shipped model2vec model, seeded; embeddings cached by content hash",
    reads=("question_text", "question_labels"),
    writes=("topic_models", "topics", "question_topics", "topics_over_time", "embedding_cache"),
    rules=("rules/topic_stopwords.v1.txt",),
    command="stackmine topics [selection]",
    entry="pipeline.topics.fit:run",
    per="selection",
    has_tables=True,
)
