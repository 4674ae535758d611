"""The unit's own web page: a live feed of what it hears, stock, the journal, fixes by hand, and ``/metrics``.

An aiohttp application served from the daemon's own event loop (``server.PageServer``), fed from the pipeline's
event bus (``feed.LiveFeed``); pages are rendered on the server with Jinja2, with a little JavaScript for the
live feed. Reading needs no login; every change needs the PIN set at install (``pin``), a session cookie and a
CSRF token (``security``). Changes go through the same inventory and dialogue code as voice, with the resolver
``screen`` in the journal (``actions``).
"""
