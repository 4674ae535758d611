"""``larder bench``: Larder's offline path measured end to end over a manifest of recordings, next to a generic
faster-whisper integration (the peer): accuracy, WER, latency per stage, idle CPU and peak memory."""
