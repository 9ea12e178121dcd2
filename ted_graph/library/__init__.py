"""The experience library: TED's memory and everything that keeps it safe.

* :mod:`~ted_graph.library.experience`: the record (TED.md's data model) and its utility.
* :mod:`~ted_graph.library.library`: :class:`ExperienceLibrary`, experiences in Chroma
  (local, in memory, or a Chroma server) or a LangGraph store
  (:mod:`~ted_graph.library.store`), retrieved by meaning.
* :mod:`~ted_graph.library.embeddings`, :mod:`~ted_graph.library.retrieval`: the
  sentence-transformers embedding function, and how images take part in retrieval.
* :mod:`~ted_graph.library.journal`, :mod:`~ted_graph.library.recovery`,
  :mod:`~ted_graph.library.usage_log`: crash safety, undo, usage counts from many processes.
* :mod:`~ted_graph.library.safety`: what may never become an experience.
* :mod:`~ted_graph.library.examples`: worked examples, the second kind of experience.
* :mod:`~ted_graph.library.prompting`: how retrieved experiences enter a student prompt.

May import: :mod:`ted_graph.models`, :mod:`ted_graph.data` and the shared modules at the
package's top; never distillation, serving or the CLI.
"""

from ted_graph.library.embeddings import SentenceTransformerEmbedding
from ted_graph.library.examples import WorkedExample, WorkedExamples
from ted_graph.library.experience import Experience, Status, experience_id, format_table
from ted_graph.library.library import EXPORT_FORMAT, ExperienceLibrary
from ted_graph.library.retrieval import ImageMode, ImageRetrieval
from ted_graph.library.safety import unsafe_reason

__all__ = [
    "ExperienceLibrary",
    "EXPORT_FORMAT",
    "Experience",
    "Status",
    "experience_id",
    "format_table",
    "ImageRetrieval",
    "ImageMode",
    "SentenceTransformerEmbedding",
    "WorkedExample",
    "WorkedExamples",
    "unsafe_reason",
]
