"""Persistent speaker identity: the database models and the repository functions on them
(speakers, enrolment, identification, recordings, history), and the matchers of voiceprints."""
