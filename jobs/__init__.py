"""Transcription jobs of the service: the queue and its worker thread, the transcribers (local
pipeline or a RunPod endpoint), audio sources and retention, and webhook notifications."""
