"""Records as a pandas DataFrame, one row per quote (pandas is the optional ``pandas`` extra)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

# The columns, in order: which document, which quote, then each span's text and offsets.
COLUMNS = [
    "id",
    "quote",
    "type",
    "speaker",
    "speaker_entity",
    "speaker_text",
    "speaker_start",
    "speaker_end",
    "cue",
    "cue_start",
    "cue_end",
    "content",
    "content_start",
    "content_end",
    "confidence",
    "stance",
    "stance_confidence",
]


def _span(span: Optional[Dict[str, Any]]):
    if not span:
        return None, None, None
    return span["text"], span["start"], span["end"]


def quote_rows(records: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One dict per quote of the records, with the columns of :data:`COLUMNS`."""
    rows = []
    for record in records:
        for number, quote in enumerate(record.get("quotes") or []):
            speaker = quote.get("speaker") or {}
            speaker_text, speaker_start, speaker_end = _span(speaker.get("mention"))
            cue, cue_start, cue_end = _span(quote.get("cue"))
            content, content_start, content_end = _span(quote.get("content"))
            stance = quote.get("stance") or {}
            rows.append(
                {
                    "id": record.get("id"),
                    "quote": number,
                    "type": quote.get("type"),
                    "speaker": speaker.get("name"),
                    "speaker_entity": speaker.get("entity"),
                    "speaker_text": speaker_text,
                    "speaker_start": speaker_start,
                    "speaker_end": speaker_end,
                    "cue": cue,
                    "cue_start": cue_start,
                    "cue_end": cue_end,
                    "content": content,
                    "content_start": content_start,
                    "content_end": content_end,
                    "confidence": quote.get("confidence"),
                    "stance": stance.get("label"),
                    "stance_confidence": stance.get("confidence"),
                }
            )
    return rows


def to_frame(records: Iterable[Dict[str, Any]]):
    """A pandas DataFrame with one row per quote of ``records`` (documents without quotes add
    no rows). Offsets are nullable integers; a quote without a cue or speaker has missing
    values there."""
    try:
        import pandas
    except ImportError as error:
        raise ImportError("whosaid.to_frame needs pandas: pip install 'whosaid[pandas]'") from error
    frame = pandas.DataFrame(quote_rows(records), columns=COLUMNS)
    for column in COLUMNS:
        if column.endswith(("_start", "_end")) or column == "quote":
            frame[column] = frame[column].astype("Int64")
    return frame
