"""Speech to text: offline faster-whisper, Deepgram streaming and the failover between them."""
