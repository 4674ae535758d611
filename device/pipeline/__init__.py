"""The voice pipeline: typed events, the pure endpointer and the asyncio stage runner."""
