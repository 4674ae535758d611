"""Embedded data: the demo catalogue and the bundled demo recording."""
