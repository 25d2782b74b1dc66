"""Normalisation and word tokens, with every token's offsets in the display text.

The display text is what the user sent (after HTML extraction). Tokens are the normalised
words of it: Unicode NFKC, case folded, Latin look-alike letters folded, zero-width and
control characters removed. Punctuation, quotes, dashes and whitespace separate tokens and
never appear in them, so curly and straight quotes or different dashes cannot make two
copies differ.
"""

import bisect
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate

from anyascii import anyascii

from dedup.core.native import compiled

# Zero-width and invisible formatting characters that scrapers insert inside words, plus the
# soft hyphen; they are dropped before tokenizing so "Ukr\u200baine" stays one word.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Control characters other than tab and newlines read as a word break.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WORD = re.compile(r"\w+")
_WORD_SPLIT = re.compile(r"(\w+)")  # split() keeps the words between the separators
# What opens a sentence (or a quotation, or a heading) before a word: a capital after one of
# these is a sentence's capital, not a name's.
# (German „...“ and French « ... » quotations too, and the ideographic full stop and brackets).
_OPENER = re.compile(
    '[.!?:;\n"\u201c\u201d\u2018\u201e\u00ab\u00bb(\\[\u3002\uff01\uff1f\u300c\u300e]'
)
_DIGIT = re.compile(r"\d")
# A sentence ends at ., ! or ?, a new line, or the full stops and question marks of other
# scripts: ideographic (Chinese, Japanese), Arabic (the Urdu full stop U+06D4
# and the Arabic question mark), Devanagari and Bengali dandas, Armenian, Ethiopic, Myanmar.
_BREAK = re.compile("[.!?\n\u3002\uff01\uff1f\u06d4\u061f\u0964\u0965\u0589\u1362\u104b]")
# Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar): a run
# of them is one regex "word", so it is cut into overlapping character bigrams, the units
# Chinese and Japanese retrieval index (a run of one character stays one unit). The minimum
# length then counts content, not spaces: a 317-character Japanese story has ~300 units.
_SPACELESS = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
    "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]+"
)

# Cyrillic and Greek letters that look like Latin ones (Unicode confusables), folded inside
# tokens that also hold Latin letters: "Ukrаine" with a Cyrillic "а" reads as "ukraine".
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic (lower case only: tokens are case folded first)
        "а": "a",
        "в": "b",
        "е": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ӏ": "l",
        # Greek
        "α": "a",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
    }
)
_LATIN = re.compile("[a-z]")
# Non-ASCII punctuation common in news (curly quotes, dashes, ellipsis, currency signs, no-break
# and thin spaces). None is a word character, so turning them into spaces leaves the tokens as
# they are, and most texts then take the ASCII path.
_SEPARATORS = re.compile(
    "[\u2018\u2019\u201a\u201c\u201d\u201e\u2010-\u2015\u2026\u2022\u00b7\u00a3\u20ac"
    "\u00a5\u00a2\u00a9\u00ae\u2122\u00b0\u00b1\u00d7\u00f7\u00ab\u00bb\u00a1\u00bf"
    "\u00a7\u00b6\u00a0\u2009\u200a\u2032\u2033]"
)


_SURROGATE = re.compile("[\ud800-\udfff]")


def unix_line_ends(text: str) -> str:
    r"""The text with its line ends as "\n": a browser posts a textarea with CRLF, old Mac
    files end lines with CR, and the markers read line by line.

    >>> unix_line_ends("Admin\r\n\r\nText\rSource link")
    'Admin\n\nText\nSource link'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def unicode_problem(text: str) -> str | None:
    """What keeps a string from being stored as UTF-8: a lone surrogate (JSON's "\\ud800"
    passes any JSON parser and validator, and breaks UTF-8 encoding), or None.

    >>> unicode_problem("fine"), unicode_problem("bad " + chr(0xD800))
    (None, 'holds an unpaired surrogate (U+D800) at character 4; send valid Unicode text')
    """
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return (
        f"holds an unpaired surrogate (U+{ord(found.group()):04X}) at character "
        f"{found.start()}; send valid Unicode text"
    )


@dataclass(frozen=True, slots=True)
class Tokens:
    """The normalised words of a text and where each one stands in the display text."""

    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.words)


def fold_word(word: str) -> str:
    """Normalise one word: NFKC, case folding, Latin look-alikes.

    >>> fold_word("ＣＯＬＤ")
    'cold'
    >>> fold_word("Ukrаine")  # the fourth letter is Cyrillic
    'ukraine'
    """
    if word.isascii():  # most words, even in texts with some non-ASCII
        return word.lower()
    folded = unicodedata.normalize("NFKC", word).casefold()
    if not folded.isascii() and _LATIN.search(folded):
        folded = folded.translate(_LOOKALIKES)
    return folded


def _clean(text: str) -> tuple[str, list[int] | None]:
    """The text without invisible characters, and a map from its indices to the original's.

    The map is None when nothing was removed (the common case), meaning identity.
    """
    text = _CONTROL.sub(" ", text)  # same length: offsets unchanged
    if not _INVISIBLE.search(text):
        return text, None
    kept: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        if not _INVISIBLE.match(char):
            kept.append(char)
            index.append(position)
    index.append(len(text))
    return "".join(kept), index


def _plain_separators(clean: str) -> str:
    """The text with common non-ASCII punctuation as spaces: the same tokens at the same
    offsets, and usually an ASCII text, whose words lower() folds all at once."""
    return clean if clean.isascii() else _SEPARATORS.sub(" ", clean)


def words(text: str) -> list[str]:
    """The normalised words of a text, without offsets (the fast path used for fingerprints).

    >>> words("“Cold War” — it’s over")
    ['cold', 'war', 'it', 's', 'over']
    """
    clean = _plain_separators(_clean(text)[0])
    if clean.isascii():
        return _WORD.findall(clean.lower())
    if _SPACELESS.search(clean):
        return [fold_word(clean[s:e]) for s, e in _unit_spans(clean)]
    return [fold_word(w) for w in _WORD.findall(clean)]


def _unit_spans(clean: str) -> list[tuple[int, int]]:
    """The [start, end) of every token of a text holding spaceless scripts: its words, with
    each run of a spaceless script cut into overlapping character bigrams.

    >>> text = "東京都 in 2021"
    >>> [text[s:e] for s, e in _unit_spans(text)]
    ['東京', '京都', 'in', '2021']
    """
    spans: list[tuple[int, int]] = []
    for word in _WORD.finditer(clean):
        start, end = word.span()
        if not _SPACELESS.search(clean, start, end):
            spans.append((start, end))
            continue
        at = start
        for run in _SPACELESS.finditer(clean, start, end):
            if run.start() > at:  # letters or digits of another script before the run
                spans.append((at, run.start()))
            first, last = run.span()
            if last - first == 1:
                spans.append((first, last))
            spans += [(k, k + 2) for k in range(first, last - 1)]
            at = last
        if at < end:
            spans.append((at, end))
    return spans


def tokenize(text: str) -> Tokens:
    """The normalised words of a text with their [start, end) offsets in the text itself.

    >>> t = tokenize("Cold\u200b War!")
    >>> t.words, t.starts, t.ends
    (('cold', 'war'), (0, 6), (4, 9))
    """
    clean, index = _clean(text)
    clean = _plain_separators(clean)  # same length: offsets unchanged
    ascii_text = clean.isascii()
    if not ascii_text and _SPACELESS.search(clean):
        spans = _unit_spans(clean)
        units = tuple(fold_word(clean[s:e]) for s, e in spans)
        if index is None:
            return Tokens(units, tuple(s for s, _ in spans), tuple(e for _, e in spans))
        return Tokens(
            units, tuple(index[s] for s, _ in spans), tuple(index[e - 1] + 1 for _, e in spans)
        )
    # Split around the words: separators and words alternate, so the running sum of their
    # lengths gives every word's offsets without a match object per word (0.13 against
    # 0.21 ms a BBC article). lower() keeps every offset of an ASCII text.
    parts = _WORD_SPLIT.split(clean.lower() if ascii_text else clean)
    bounds = tuple(accumulate(map(len, parts)))
    starts, ends = bounds[0:-1:2], bounds[1::2]
    found = tuple(parts[1::2]) if ascii_text else tuple(fold_word(w) for w in parts[1::2])
    if index is None:
        return Tokens(found, starts, ends)
    return Tokens(found, tuple(index[s] for s in starts), tuple(index[e - 1] + 1 for e in ends))


def normalize(text: str) -> str:
    """The text as the comparison sees it: its normalised words joined by single spaces.

    >>> normalize("It’s  the ‘Cold War’\u200b – again")
    'it s the cold war again'
    """
    return " ".join(words(text))


def skeleton(text: str) -> list[str]:
    """The names and numbers of a text, in order, normalised: the words a spinner or a
    paraphraser leaves alone. A name is a capitalised word that does not open a sentence
    (or a quotation); a number is any word holding a digit.

    >>> skeleton('Tony Blair met Mr Putin in 2005. He said: "Talks went well."')
    ['blair', 'mr', 'putin', '2005']
    """
    clean, _ = _clean(text)
    return [w.lower() if w.isascii() else fold_word(w) for w in _skeleton_words(clean)]


def skeleton_words(clean: str) -> list[str]:
    """The words of a cleaned text that are names or numbers, as written: the definition
    (pure Python) that the compiled `_native.skeleton_words` must equal (a test runs both on
    the real corpora).

    >>> skeleton_words('Tony Blair met Mr Putin in 2005. He said: "Talks went well."')
    ['Blair', 'Mr', 'Putin', '2005']
    """
    found: list[str] = []
    for segment in _OPENER.split(clean):  # the first word of each segment opens it
        for k, word in enumerate(_WORD.findall(segment)):
            if (k and word[0].isupper()) or (not word.isalpha() and _DIGIT.search(word)):
                found.append(word)
    return found


compiled_skeleton_words: Callable[[str], list[str]] | None = compiled("skeleton_words")
_skeleton_words = compiled_skeleton_words or skeleton_words


_NOT_LATIN = re.compile("[^a-z]")
# A number as written: digits with group or decimal separators ("2,500", "2.5", "2 500" is two).
_NUMBER = re.compile(r"\d+(?:[.,'’]\d+)*")
NUMBER_DIGITS = 6  # significant digits of a number kept
NAME_PREFIX = 4  # letters of a transliterated name kept: folds most inflections


def significant_digits(word: str) -> list[str]:
    """The numbers of a word as their significant digits (any script's digits as ASCII,
    separators and zeros at either end dropped): a form that a number keeps across
    languages and scripts, whatever its separators ("2,5" and "2.5"), its unit ("2 million",
    "2m" and "200万" are all 2) or its digits (full-width, Arabic-Indic).

    >>> significant_digits("2,500")
    ['25']
    >>> significant_digits("２００万ユーロ")  # 2 million euros, full-width digits
    ['2']
    >>> significant_digits("2021年3月5日")  # a Japanese date: three numbers, in order
    ['2021', '3', '5']
    >>> significant_digits("٢٠٢١")  # Arabic-Indic digits
    ['2021']
    """
    found = []
    for number in _NUMBER.findall(word):
        digits = "".join(str(unicodedata.digit(c)) for c in number if c.isdigit()).strip("0")
        if digits:
            found.append(digits[:NUMBER_DIGITS])
    return found


def translingual(names_and_numbers: list[str]) -> list[str]:
    """A skeleton (`skeleton`) in a form most translations keep: names transliterated to
    Latin letters (anyascii) and cut to their first NAME_PREFIX letters, so that "путина",
    "putins" and "putin" agree; numbers as their digits ("#2021").

    >>> translingual(skeleton("Вчера Владимир Путин посетил Берлин в 2021 году."))
    ['vlad', 'puti', 'berl', '#2021']
    >>> translingual(skeleton("Yesterday Vladimir Putin visited Berlin in 2021."))
    ['vlad', 'puti', 'berl', '#2021']
    """
    found: list[str] = []
    for word in names_and_numbers:
        if _DIGIT.search(word):
            found += (f"#{n}" for n in significant_digits(word))
            continue
        latin = _NOT_LATIN.sub("", word if word.isascii() else anyascii(word).lower())
        if len(latin) >= 3:
            found.append(latin[:NAME_PREFIX])
    return found


def sentence_starts(text: str, tokens: Tokens) -> list[int]:
    """The index of the first token of every sentence (a break is ., ! or ? or a new line
    between two tokens).

    >>> text = "One two. Three four!\\nFive"
    >>> sentence_starts(text, tokenize(text))
    [0, 2, 4]
    >>> urdu = "وزیر اعظم نے کہا۔ عدالت نے فیصلہ سنایا؟ ہاں"
    >>> sentence_starts(urdu, tokenize(urdu))
    [0, 4, 8]
    """
    if not len(tokens):
        return []
    breaks = [m.start() for m in _BREAK.finditer(text)]
    if not breaks:
        return [0]
    # The token after each break, and whether the break lies after the end of the token
    # before it (a break inside a gap, not inside a token's span).
    after = [bisect.bisect_right(tokens.starts, at) for at in breaks]
    found = {
        k
        for k, at in zip(after, breaks, strict=True)
        if 0 < k < len(tokens) and tokens.ends[k - 1] <= at
    }
    return [0, *sorted(found)]
