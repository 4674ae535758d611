"""Audio in and out: sounddevice capture and playback, WAV sources and sinks, resampling."""
