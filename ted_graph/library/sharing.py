"""Sharing a library: export to a JSON file, import from one (re-embedded on arrival).

The file format (``"format": "ted-graph/experiences"``, ``"version": 1``) carries whole
records with their usage statistics and the embedder that made the exporter's vectors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ted_graph.library.embeddings import SentenceTransformerEmbedding
from ted_graph.library.experience import Experience, Status
from ted_graph.library.recovery import locked
from ted_graph.library.safety import clean_text, unsafe_reason

__all__ = ["Sharing", "EXPORT_FORMAT", "EXPORT_VERSION"]

EXPORT_FORMAT = "ted-graph/experiences"
EXPORT_VERSION = 1


class Sharing:
    """Export and import; mixed into ``ExperienceLibrary``, whose collections, size cap and
    embedding function it uses."""

    collection: Any
    archive: Any
    max_size: int | None
    embedding_function: SentenceTransformerEmbedding

    if TYPE_CHECKING:  # provided by ExperienceLibrary

        def all(self, status: Status | None = "active") -> list[Experience]: ...

    def export_json(self, path: str | os.PathLike[str], *, status: Status | None = None) -> int:
        """Write experiences (all statuses by default) to a JSON file; returns the count."""
        exps = self.all(status=status)
        payload = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "embedder": self.embedding_function.model,
            "experiences": [e.to_dict() for e in exps],
        }
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(target)
        return len(exps)

    @locked
    def import_json(self, path: str | os.PathLike[str]) -> int:
        """Load experiences from an export; records with an existing id are overwritten.

        Texts are re-embedded with this library's embedder. Returns the number imported.

        Raises:
            ValueError: the file is not a ted-graph export or a record is malformed.
        """
        source = Path(path)
        try:
            payload = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{source}: cannot read a ted-graph export ({exc})") from exc
        if not isinstance(payload, dict) or payload.get("format") != EXPORT_FORMAT:
            raise ValueError(f"{source}: not a ted-graph experience export (format field)")
        records = payload.get("experiences")
        if not isinstance(records, list):
            raise ValueError(f"{source}: 'experiences' must be a list")
        exps = []
        for i, record in enumerate(records):
            try:
                exp = Experience.from_dict(record)
                exp.text = clean_text(exp.text)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{source}: experiences[{i}]: {exc}") from exc
            why = unsafe_reason(exp.text)
            if why:
                raise ValueError(f"{source}: experiences[{i}]: refused, the text {why}")
            exps.append(exp)
        if self.max_size is not None:
            incoming = {e.id for e in exps if e.status == "active"}
            kept = {e.id for e in self.all()} - {e.id for e in exps if e.status != "active"}
            if len(kept | incoming) > self.max_size:
                raise ValueError(
                    f"{source}: importing would leave {len(kept | incoming)} active "
                    f"experiences, more than this library's max_size={self.max_size}"
                )
        for active, target, other in (
            (True, self.collection, self.archive),
            (False, self.archive, self.collection),
        ):
            chosen = [e for e in exps if (e.status == "active") == active]
            if chosen:  # validated all first: nothing is written from a bad file
                target.upsert(
                    ids=[e.id for e in chosen],
                    documents=[e.text for e in chosen],
                    metadatas=[e.to_metadata() for e in chosen],
                )
                other.delete(ids=[e.id for e in chosen])
        return len(exps)
