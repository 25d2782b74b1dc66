"""Which language a text is written in (pure: py3langid's model ships inside its wheel).

py3langid is langid.py's naive Bayes classifier over byte n-grams (97 languages), ~2 ms an
article; on the WMT21 dev articles (ru, ja, fr, de, is, en) it named all 691 right. The
slices spread over its body decide (`_sample`): a page's first lines may be chrome in
another language, and a news article's language does not change halfway.

Its feature extractor walks a byte DFA in Python (~1 us a byte); `_native.langid_counts` is the
same walk in C, built with the package (`_native.c`), and `visit_counts` below its pure-Python twin,
used where the extension was not built. Both answer the same dict in the same order (a test
compares them on the real corpora), so the classifier's scores are the same to the bit.
"""

import functools
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from py3langid.langid import MODEL_FILE, RAW_FLOOR, LanguageIdentifier

from dedup.core.native import compiled

Walk = Callable[[Any, Any, Any, bytes], dict[int, int] | None]
compiled_counts: Walk | None = compiled("langid_counts")
COMPILED = compiled_counts is not None  # whether the C walk runs

# Characters read, from the middle of the text: a page's first lines are often its chrome
# (seed 003 opens with 300 characters of an aggregator's menu), its main text is not.
SLICES = 3  # slices of SLICE characters, at a quarter, a half and three quarters of the text
SLICE = 150
UNKNOWN = "und"  # BCP 47 "undetermined": too little text, or no language the model knows
MIN_CONFIDENCE = 0.5  # below this the code is reported as UNKNOWN


@dataclass(frozen=True, slots=True)
class Language:
    """An ISO 639-1 code (or "und") and the classifier's probability for it."""

    code: str
    confidence: float


def visit_counts(nextmove: Any, rowbase: Any, output: Any, data: bytes) -> dict[int, int] | None:
    """The pure-Python walk: feature index -> count, in the order first emitted (None when
    none was); py3langid's own loop, kept as the definition `_native.langid_counts` must equal.

    >>> visit_counts([1, 2, 2], [0, 1, 1], [-1, 7, 8], bytes([0, 0, 1, 0]))
    {7: 1, 8: 3}
    """
    state = 0
    found: dict[int, int] = {}
    for byte in data:
        state = nextmove[rowbase[state] + byte]
        feature = output[state]
        if feature >= 0:
            found[feature] = found.get(feature, 0) + 1
    return found or None


class _Identifier(LanguageIdentifier):  # type: ignore[misc]
    """py3langid's classifier with its DFA walk replaced by `_native.langid_counts` (or its twin):
    everything else, the model, the scoring, the normalisation, is py3langid's."""

    def __init__(self, *args: Any, compiled: bool = COMPILED, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._walker: Walk = compiled_counts if compiled and compiled_counts else visit_counts
        # The C walk reads the tables as flat machine integers.
        self._walk = (self.tk_nextmove, array("q", self._rowbase), array("q", self.tk_output))

    def _raw_score(self, text: bytes) -> np.ndarray:
        """py3langid's `_raw_score`, with the walk swapped."""
        visits = self._walker(*self._walk, text)
        if visits:
            scores: np.ndarray = self._sparse_score(visits, self.nb_ptc)
            return scores
        fill = 0.0 if self._norm_probs else RAW_FLOOR
        return np.full(len(self.nb_classes), fill, dtype=np.float32)


@functools.cache
def _identifier(compiled: bool = COMPILED) -> LanguageIdentifier:
    """The classifier, with the C walk or (compiled=False) the pure-Python one."""
    return _Identifier.from_model_file(MODEL_FILE, norm_probs=True, compiled=compiled)


def detect(text: str) -> Language:
    """The language of a text.

    >>> detect("Le tribunal a rendu sa décision mardi soir à Paris.").code
    'fr'
    >>> detect("12 34 !!").code
    'und'
    """
    sample = _sample(text)
    if not _letters(sample, 3):
        return Language(UNKNOWN, 0.0)
    code, probability = _identifier().classify(sample)
    confidence = round(float(probability), 3)
    if confidence < MIN_CONFIDENCE:
        return Language(UNKNOWN, confidence)
    return Language(str(code), confidence)


def _sample(text: str) -> str:
    """What the classifier reads of a text: all of a short one; of a longer one, SLICES
    slices of SLICE characters spread over its body, each starting at a word.

    >>> page = "Menu Home Login " * 10 + "The court heard the case on Monday. " * 30
    >>> "Menu" in _sample(page), _sample(page).count("court")
    (False, 12)
    """
    if len(text) <= SLICES * SLICE:
        return text
    parts = []
    for k in range(1, SLICES + 1):
        at = len(text) * k // (SLICES + 1)
        space = text.find(" ", at, at + 40)
        start = space + 1 if space >= 0 else at
        parts.append(text[start : start + SLICE])
    return "\n".join(parts)


def _letters(text: str, enough: int) -> bool:
    """Whether a text holds at least `enough` letters (stops reading once it has)."""
    seen = 0
    for char in text:
        if char.isalpha():
            seen += 1
            if seen >= enough:
                return True
    return False


def language_code(code: str) -> int:
    """A two-letter language code as a 16-bit number (0 for anything else): how a name-pair
    index entry carries its article's language, so that a lookup can tell a cross-language
    candidate before fetching it.

    >>> language_code("en"), language_code("und"), code_language(language_code("ja"))
    (25966, 0, 'ja')
    """
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return 0
    return (ord(code[0]) << 8) | ord(code[1])


def code_language(number: int) -> str:
    """The language code `language_code` packed ("und" for 0)."""
    if not 0 < number <= 0xFFFF:
        return UNKNOWN
    return chr(number >> 8) + chr(number & 0xFF)
