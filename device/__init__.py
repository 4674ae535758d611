"""Larder device daemon: voice pipeline, inventory store and CLI."""
