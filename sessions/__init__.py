"""What was said: sessions (transcribed recordings), their clusters and utterances, history and
search, summaries, groups of expected speakers, and what reaches a person across sessions (merge,
export, erasure)."""
