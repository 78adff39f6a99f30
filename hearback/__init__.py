"""Hearback: transcripts with word timestamps, speakers, and voices remembered across recordings."""

from hearback.pipeline import Options, Pipeline
from hearback.result import Segment, Transcript, Word
from hearback.settings import Settings

__version__ = "0.1.0"
__all__ = ["Options", "Pipeline", "Segment", "Settings", "Transcript", "Word", "__version__"]
