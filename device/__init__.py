"""Larder device daemon: voice pipeline, inventory store and CLI."""

__version__ = "0.9.0"
