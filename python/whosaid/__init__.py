"""whosaid: who said what in the news.

Every quotation in an article, the person or organisation who said it, the cue, a calibrated
confidence and (in the default mode) the stance, over the same Rust core as the ``whosaid``
command line, with records in exactly the schema of its JSONL output::

    import whosaid

    pipeline = whosaid.Pipeline(fast=True)
    record = pipeline.extract("“We are close,” Kerry said.", id="geneva")
    for quote in record["quotes"]:
        print(quote["speaker"]["name"], quote["content"]["text"])

Offsets are code-point offsets into the text given, as Python's ``str`` counts them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _fast
from ._frame import to_frame

__all__ = ["Error", "Pipeline", "to_frame"]
__version__ = "0.1.0"

Record = Dict[str, Any]
Document = Union[str, bytes, Mapping]

# The kinds of error records that say the input was bad, rather than the analysis.
_INPUT_ERRORS = frozenset({"invalid_utf8", "invalid_json", "missing_text"})


class Error(Exception):
    """Bad input, or a pipeline that cannot be built. The message names the document.

    ``id`` is the document's id and ``kind`` the error record's kind (``"missing_text"``,
    ``"invalid_utf8"``...), where the error is about one document.
    """

    def __init__(self, message: str, id: Optional[str] = None, kind: Optional[str] = None):
        super().__init__(message)
        self.id = id
        self.kind = kind


def _full_module():
    """The default mode's native module, or an Error that says how to get it."""
    try:
        from . import _full
    except ImportError as error:
        raise Error(
            "the default mode needs the libtorch and the encoder that whosaid's scripts/setup "
            "installs (in ~/.cache/whosaid), and a wheel built by python/build-wheel on that "
            f"machine; use Pipeline(fast=True) for fast mode, which needs neither ({error})"
        ) from None
    return _full


class Pipeline:
    """The models, loaded once, and the threads that run them.

    ``fast=True`` is fast mode: rules and linear models only, no stance, nothing to install.
    The default mode adds the transformer tagger and the stance stage (see :func:`_full_module`
    for what it needs). ``threads`` caps the threads of the analysis (default: every core).
    ``speakers`` keeps only the quotes of speakers answering to one of these names, as the
    command line's ``--speaker``.
    """

    def __init__(
        self,
        fast: bool = False,
        threads: Optional[int] = None,
        speakers: Optional[Sequence[str]] = None,
    ):
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads must be a positive int, not {threads!r}")
        if isinstance(speakers, str):
            speakers = [speakers]
        module = _fast if fast else _full_module()
        try:
            self._native = module.NativePipeline(bool(fast), threads, list(speakers) if speakers else None)
        except RuntimeError as error:
            raise Error(f"the pipeline cannot be built: {error}") from None
        self.fast = bool(fast)

    @property
    def stages(self) -> List[str]:
        """The names of the pipeline's stages, in order."""
        return list(self._native.stage_names)

    def extract(self, text: str, id: Optional[str] = None) -> Record:
        """Analyses one text into its record. ``id`` defaults to ``"0"``.

        Raises :class:`Error` when ``text`` is not a ``str`` or cannot be UTF-8 (a lone
        surrogate). A document the analysis fails on (a time-out, a bug) gets a record with an
        ``error`` field, as on the command line.
        """
        document_id = "0" if id is None else str(id)
        if not isinstance(text, str):
            raise Error(
                f"document {document_id} is a {type(text).__name__}, not a text (str)",
                id=document_id,
                kind="missing_text",
            )
        (line,) = self._native.run([(document_id, text, False, None)])
        record = json.loads(line)
        _raise_input_error(record)
        return record

    def extract_many(self, documents: Iterable[Document], chunk_size: Optional[int] = None) -> Iterator[Record]:
        """Analyses many documents, in parallel, yielding their records in input order.

        Each document is a text (``str``, or UTF-8 ``bytes``) named by its place (``"0"``,
        ``"1"``...), or a mapping like a JSONL line: ``{"id": ..., "text": ..., ...}``, whose
        other fields come back under ``meta``. The input is read ``chunk_size`` documents at a
        time (default: as the command line, 256 in fast mode and 32 in the default mode), so
        memory stays bounded however long the stream. A bad document does not stop the stream:
        it yields the same error record the command line writes.
        """
        if chunk_size is None:
            chunk_size = self._native.suggested_chunk_size
        if isinstance(documents, (str, bytes, Mapping)):
            raise TypeError("extract_many takes an iterable of documents; use extract for one text")
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, not {chunk_size!r}")
        # One chunk is analysed on a Rust thread while the next is read and the last one's
        # records are parsed, so Python's share of the work overlaps the analysis.
        in_flight = None
        for chunk, ready in _chunks(documents, chunk_size):
            pending = (self._native.submit(chunk), ready)
            if in_flight is not None:
                yield from _records(*in_flight)
            in_flight = pending
        if in_flight is not None:
            yield from _records(*in_flight)

    def __repr__(self) -> str:
        return f"whosaid.Pipeline(fast={self.fast})"


Item = Tuple[str, Any, bool, Optional[str]]


def _chunks(documents: Iterable[Any], chunk_size: int) -> Iterator[Tuple[List[Item], Dict[int, str]]]:
    """The documents in chunks of native items, each with the error records (by index in the
    chunk) that Python already wrote."""
    chunk: List[Item] = []
    ready: Dict[int, str] = {}
    for position, document in enumerate(documents):
        item, error_line = _native_input(position, document)
        if error_line is not None:
            ready[len(chunk)] = error_line
        chunk.append(item)
        if len(chunk) == chunk_size:
            yield chunk, ready
            chunk, ready = [], {}
    if chunk:
        yield chunk, ready


def _records(pending: Any, ready: Dict[int, str]) -> Iterator[Record]:
    for index, line in enumerate(pending.wait()):
        yield json.loads(ready.get(index, line))


def _native_input(position: int, document: Any) -> Tuple[Item, Optional[str]]:
    """The native module's form of one document, and its error record (as a JSON line) where
    Python alone can tell it is bad."""
    fallback_id = str(position)
    if isinstance(document, (str, bytes)):
        return (fallback_id, document, False, None), None
    if isinstance(document, Mapping):
        fast = _plain_record(document)
        if fast is not None:
            return fast, None
        try:
            # ASCII escapes keep lone surrogates out of the bytes; the Rust side reads the line
            # exactly as the command line reads a JSONL line.
            line = json.dumps(dict(document), ensure_ascii=True).encode("ascii")
        except (TypeError, ValueError) as error:
            document_id = _mapping_id(document, fallback_id)
            record = {
                "id": document_id,
                "quotes": [],
                "entities": [],
                "error": {
                    "kind": "invalid_json",
                    "message": f"document {document_id} cannot be read as a JSON record: {error}",
                },
            }
            # A stand-in the native side reads as a well-formed empty line; its record is replaced.
            return (fallback_id, "", False, None), json.dumps(record, ensure_ascii=False)
        return (fallback_id, line, True, None), None
    return (fallback_id, document, False, None), None


def _plain_record(document: Mapping) -> Optional[Item]:
    """A record whose id and text need no JSON round trip: a `str` text and an id that is a
    non-blank `str` or an `int`, named as the command line names them; its other fields go as
    a small JSON object. `None` for any other record, which goes as a whole JSON line."""
    text = document.get("text")
    identifier = document.get("id")
    if type(text) is not str:
        return None
    if type(identifier) is str and identifier.strip():
        name = identifier
    elif type(identifier) is int and -(2**63) <= identifier < 2**64:
        # JSON integers the command line reads exactly (larger ones it reads as floats).
        name = str(identifier)
    else:
        return None
    others = {key: value for key, value in document.items() if key not in ("id", "text")}
    if not others:
        return (name, text, False, None)
    try:
        return (name, text, False, json.dumps(others, ensure_ascii=True))
    except (TypeError, ValueError):
        return None


def _mapping_id(document: Mapping, fallback_id: str) -> str:
    value = document.get("id")
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return fallback_id


def _raise_input_error(record: Record) -> None:
    error = record.get("error")
    if error and error.get("kind") in _INPUT_ERRORS:
        raise Error(error["message"], id=record.get("id"), kind=error["kind"])
