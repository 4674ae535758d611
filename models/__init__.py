"""Model manifest and tooling (checksums, joining the split Whisper base model)."""
