"""Intent: transcript text -> ``Command`` (local grammar first, cloud LLM fallback)."""
