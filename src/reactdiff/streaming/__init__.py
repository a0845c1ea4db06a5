"""Live reactions: a session fed incrementally with a speaker's frames (``session``) and the
incremental feature extraction that feeds it from camera frames and audio chunks (``features``)."""

from reactdiff.streaming.session import ListenerChunk, ReactionSession

__all__ = ["ListenerChunk", "ReactionSession"]
