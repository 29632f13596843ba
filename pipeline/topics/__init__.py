"""Topics: BERTopic over a selection of labelled questions, offline and seeded."""

from pipeline.core.step import Step

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
