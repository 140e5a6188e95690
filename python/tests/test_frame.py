"""whosaid.to_frame: one row per quote."""

import whosaid
from conftest import optional

pandas = optional("pandas")


def test_one_row_per_quote_with_its_spans(fast):
    texts = [
        "“We are close,” Kerry said. Lavrov said the talks would go on next week.",
        "The weather was mild on Tuesday.",
        "Officials said the plan would pass.",
    ]
    records = list(fast.extract_many(texts))
    frame = whosaid.to_frame(records)
    assert len(frame) == sum(len(record["quotes"]) for record in records)
    assert list(frame.columns[:4]) == ["id", "quote", "type", "speaker"]
    assert set(frame["id"]) == {record["id"] for record in records if record["quotes"]}
    for row in frame.itertuples():
        text = texts[int(row.id)]
        assert text[row.content_start:row.content_end] == row.content
        if row.cue is not None:
            assert text[row.cue_start:row.cue_end] == row.cue
    kerry = frame[frame["speaker"] == "Kerry"].iloc[0]
    assert kerry["type"] == "direct" and kerry["content"] == "“We are close,”"
    assert str(frame["content_start"].dtype) == "Int64"
    assert frame["confidence"].between(0, 1).all()


def test_stance_columns_come_from_the_default_mode(full):
    frame = whosaid.to_frame([full.extract("“We are close,” Kerry said.")])
    assert frame["stance"].notna().all()
    assert set(frame["stance"]) <= {"positive", "neutral", "negative"}


def test_no_quotes_is_an_empty_frame_with_the_columns():
    frame = whosaid.to_frame([{"id": "a", "quotes": [], "entities": []}])
    assert frame.empty and "content" in frame.columns
