"""Plain-text reports of results for people reading a terminal (pure)."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from dedup.core.language import UNKNOWN, detect
from dedup.core.markers import Marker
from dedup.core.verdict import Verdict

PASSAGE_PREVIEW_CHARS = 160

_KIND_TITLES = {
    "credit": "credit line",
    "chrome": "aggregator chrome",
    "byline": "generic byline",
    "translation": "translator credit",
    "machine": "leftover machine output",
    "spin": "spun phrases",
}


@dataclass(frozen=True, slots=True)
class Scanned:
    """One scanned item: where it came from and its result, or why it failed."""

    origin: str
    name: str
    result: Verdict | None
    error: str | None = None


def _short(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_markers(markers: Sequence[Marker]) -> list[str]:
    """One line per kind of marker, quoting what was found.

    >>> describe_markers([Marker("spin", "spun phrase", "Chilly Battle", 0, 13, "Cold War")])
    ['spun phrases: “Chilly Battle” (for “Cold War”)']
    """
    lines = []
    for kind, title in _KIND_TITLES.items():
        found = [m for m in markers if m.kind == kind]
        if not found:
            continue
        shown: list[str] = []
        for marker in found:
            quoted = f"“{_short(marker.text)}”"
            if kind == "spin":
                quoted += f" (for “{marker.detail}”)"
            elif kind == "credit" and marker.detail:
                quoted += f" (names {marker.detail})"
            if quoted not in shown:
                shown.append(quoted)
        more = f" and {len(shown) - 4} more" if len(shown) > 4 else ""
        lines.append(f"{title}: {', '.join(shown[:4])}{more}")
    return lines


def translated_from(language: str, markers: Sequence[Marker]) -> str | None:
    """The language a translator credit is written in, when it is not the text's own: the
    language the text was translated from (a machine translation keeps the service's credit
    line in the source language).

    >>> text = "Traduit automatiquement par le service DeepL"
    >>> credit = Marker("translation", "translator credit", text, 0, len(text))
    >>> translated_from("en", [credit])
    'fr'
    """
    for marker in markers:
        if marker.kind != "translation":
            continue
        found = detect(marker.text).code
        if found not in (UNKNOWN, language):
            return found
    return None


def describe_result(verdict: Verdict, name: str, passages: int = 1) -> list[str]:
    """The lines that say what an article is, what it matches and which is the original."""
    article = verdict.article
    ident = f"id {article.id}" if verdict.stored else "not stored"
    lines = [
        f"{name}  ({article.site}, {ident}, {verdict.word_count} words, language "
        f"{article.language})"
    ]
    marker_lines = describe_markers(verdict.markers)
    lines += [f"  {line}" for line in marker_lines] or ["  no republishing markers found"]
    source_language = translated_from(article.language, verdict.markers)
    if source_language and not any(m.verified_by == "meaning" for m in verdict.matches):
        lines.append(
            f"  a translation from {source_language}: its translator credit is written in "
            f"{source_language}; its source is not stored"
        )
    if verdict.meaning:
        lines.append(f"  translations: {verdict.meaning}")
    if not verdict.matches:
        lines.append("  copies: no stored article shares enough text to be a copy or a source")
    for match in verdict.matches:
        other = match.article
        if match.verified_by == "meaning":
            lines.append(
                f"  {match.relation} of id {other.id} ({other.site}, language "
                f"{other.language}), copy type {match.copy_type}: {len(match.sentence_pairs)} "
                f"sentence pairs in the same order by meaning, covering "
                f"{match.sentences_explained:.0%} of this text and "
                f"{match.sentences_explained_by:.0%} of the match"
            )
            quotes = match.sentence_pairs
        else:
            lines.append(
                f"  {match.relation} of id {other.id} ({other.site}), copy type "
                f"{match.copy_type}: containment {match.containment:.2f}, contained_by "
                f"{match.contained_by:.2f}, jaccard {match.jaccard:.2f}, simhash distance "
                f"{match.simhash_distance}, {match.shared_words} shared words in "
                f"{len(match.passages)} passage(s)"
            )
            quotes = match.passages
        for quote in quotes[:passages]:
            mine = _short(quote.text, PASSAGE_PREVIEW_CHARS)
            theirs = _short(quote.match_text, PASSAGE_PREVIEW_CHARS)
            lines.append(f"    this  [{quote.start}:{quote.end}] “{mine}”")
            lines.append(f"    match [{quote.match_start}:{quote.match_end}] “{theirs}”")
    original = verdict.original
    if not original.source_stored:
        who = "not stored (these signs say it was copied; its source is not in the index)"
    elif original.id is None or original.id == str(article.id):
        who = "itself"
    else:
        who = f"id {original.id} ({original.site})"
    lines.append(f"  likely original: {who}, confidence {original.confidence:.2f}")
    lines += [f"    - {reason}" for reason in original.reasons]
    return lines


def scan_report(
    items: Sequence[Scanned], seconds: float, verbose: bool = False, passages: int = 1
) -> str:
    """The report that ends a scan: the counts, the copy pairs by copy type with each pair's
    likely original, the failures; each article's detail only when `verbose`."""
    done = [item for item in items if item.result is not None]
    failed = [item for item in items if item.result is None]
    created = sum(1 for item in done if item.result and item.result.created)
    lines = [
        f"Scanned {len(items)} article(s) in {seconds:.1f} s: {created} stored, "
        f"{len(done) - created} already stored, {len(failed)} failed.",
    ]
    names = {item.result.article.id: item.name for item in done if item.result}
    pairs: dict[tuple[int, int], str] = {}
    for item in done:
        verdict = item.result
        assert verdict is not None
        for match in verdict.copies:
            key = (
                min(verdict.article.id, match.article.id),
                max(verdict.article.id, match.article.id),
            )
            pairs.setdefault(key, match.copy_type or match.relation)
    if pairs:
        kinds = Counter(pairs.values())
        lines.append(
            f"Copy pairs: {len(pairs)} ("
            + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
            + ")"
        )
        for (first, second), kind in sorted(pairs.items()):
            first_name = names.get(first, "stored before")
            second_name = names.get(second, "stored before")
            lines.append(f"  id {first} ({first_name}) ~ id {second} ({second_name}): {kind}")
    else:
        lines.append(
            f"Copy pairs: none. No article of these {len(done)} is a near-copy, excerpt or "
            "container of another or of any stored article: no pair passed the verification bar."
        )
    marked = [item for item in done if item.result and not item.result.original.source_stored]
    if marked:
        lines.append(
            f"Copied from an article not stored (by their own signs): {len(marked)}: "
            + ", ".join(item.name for item in marked)
        )
    if failed:
        lines.append(f"Failed: {len(failed)}")
        lines += [f"  {item.origin}: {item.error}" for item in failed]
    if verbose:
        for item in done:
            assert item.result is not None
            lines.append("")
            lines += describe_result(item.result, item.name, passages)
    else:
        lines.append("(--verbose shows each article: its markers, matches, passages and reasons)")
    return "\n".join(lines)
