"""Larder device daemon: voice pipeline, inventory store and CLI."""

__version__ = "1.0.0"
