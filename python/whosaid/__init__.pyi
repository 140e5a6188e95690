from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Union

import pandas

__version__: str

Record = Dict[str, Any]
"""One document's record, in the schema of the command line's JSONL output."""

Document = Union[str, bytes, Mapping[str, Any]]
"""A text, UTF-8 bytes, or a JSONL-like mapping {"id": ..., "text": ..., ...}."""

class Error(Exception):
    """Bad input, or a pipeline that cannot be built; the message names the document."""

    id: Optional[str]
    kind: Optional[str]
    def __init__(self, message: str, id: Optional[str] = ..., kind: Optional[str] = ...) -> None: ...

class Pipeline:
    """The models, loaded once, and the threads that run them."""

    fast: bool
    def __init__(
        self,
        fast: bool = ...,
        threads: Optional[int] = ...,
        speakers: Optional[Sequence[str]] = ...,
    ) -> None: ...
    @property
    def stages(self) -> List[str]: ...
    def extract(self, text: str, id: Optional[str] = ...) -> Record:
        """One text's record; raises Error on a non-string or text UTF-8 cannot hold."""
    def extract_many(self, documents: Iterable[Document], chunk_size: Optional[int] = ...) -> Iterator[Record]:
        """Records in input order, analysed in parallel; bad documents yield error records."""

def to_frame(records: Iterable[Record]) -> pandas.DataFrame:
    """One row per quote: id, type, speaker, cue, content, offsets, confidence, stance."""
