"""dedup: find copies of news articles, their likely original, and the shared passages."""

__version__ = "0.1.0"
