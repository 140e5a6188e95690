"""The ``whosaid`` spaCy component (the optional ``spacy`` extra).

``nlp.add_pipe("whosaid")`` (registered through the ``spacy_factories`` entry point) adds to
each Doc:

- ``doc.spans["quotes"]``: each quote's content, labelled with its type (``direct``,
  ``indirect``, ``mixed``, ``partial``), with the quote's record in ``span._.whosaid``;
- ``doc._.attributions``: one dict per quote, with token-aligned spans for its ``content``,
  ``cue`` and ``speaker`` mention (``None`` where absent) besides the record's fields;
- ``doc._.whosaid``: the document's whole record, entities included.

Spans are aligned to spaCy's tokens by expanding to the tokens the record's offsets touch.
This module has no `from __future__ import annotations`: spaCy validates the factory's
arguments from their annotations, which must be real types.
"""

from typing import Any, Dict, Iterable, Iterator, List, Optional

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from . import Pipeline

if not Doc.has_extension("attributions"):
    Doc.set_extension("attributions", default=None)
if not Doc.has_extension("whosaid"):
    Doc.set_extension("whosaid", default=None)
if not Span.has_extension("whosaid"):
    Span.set_extension("whosaid", default=None)


@Language.factory(
    "whosaid",
    default_config={"fast": False, "threads": None, "speakers": None},
)
def make_whosaid(
    nlp: Language,
    name: str,
    fast: bool,
    threads: Optional[int],
    speakers: Optional[List[str]],
) -> "WhosaidComponent":  # noqa: F821 (spaCy reads only the arguments)
    return WhosaidComponent(name, fast=fast, threads=threads, speakers=speakers)


class WhosaidComponent:
    """Runs a :class:`whosaid.Pipeline` over each Doc's text."""

    def __init__(self, name: str = "whosaid", fast: bool = False, threads: Optional[int] = None,
                 speakers: Optional[List[str]] = None):
        self.name = name
        self.pipeline = Pipeline(fast=fast, threads=threads, speakers=speakers)

    def __call__(self, doc: Doc) -> Doc:
        return annotate(doc, self.pipeline.extract(doc.text))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            records = self.pipeline.extract_many([doc.text for doc in batch], chunk_size=len(batch))
            for doc, record in zip(batch, records):
                yield annotate(doc, record)


def _aligned(doc: Doc, span: Optional[Dict[str, Any]], label: str = "") -> Optional[Span]:
    if not span:
        return None
    return doc.char_span(span["start"], span["end"], label=label, alignment_mode="expand")


def annotate(doc: Doc, record: Dict[str, Any]) -> Doc:
    """Puts a whosaid record on the Doc it was made from."""
    quotes: List[Span] = []
    attributions: List[Dict[str, Any]] = []
    for quote in record.get("quotes") or []:
        content = _aligned(doc, quote["content"], label=quote["type"])
        if content is None:
            continue
        content._.whosaid = quote
        quotes.append(content)
        speaker = quote.get("speaker") or {}
        attributions.append(
            {
                "type": quote["type"],
                "content": content,
                "cue": _aligned(doc, quote.get("cue")),
                "speaker": _aligned(doc, speaker.get("mention")),
                "speaker_name": speaker.get("name"),
                "entity": speaker.get("entity"),
                "confidence": quote["confidence"],
                "stance": (quote.get("stance") or {}).get("label"),
                "record": quote,
            }
        )
    doc.spans["quotes"] = quotes
    doc._.attributions = attributions
    doc._.whosaid = record
    return doc
