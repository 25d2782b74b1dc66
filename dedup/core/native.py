"""The compiled twins of the core's hot loops (`_native.c`), where the package built them."""

from collections.abc import Callable
from typing import Any


def compiled(name: str) -> Callable[..., Any] | None:
    """The function `name` of the C extension, or None when it was not built (no C compiler
    at install): the caller then runs its pure-Python twin, which gives the same answers."""
    try:
        from dedup.core import _native
    except ImportError:
        return None
    found: Callable[..., Any] = getattr(_native, name)
    return found
