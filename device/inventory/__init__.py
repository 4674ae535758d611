"""Inventory: the catalogue, the SQLite store and journal, applying commands and wording replies."""
