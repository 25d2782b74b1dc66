"""Plain-text reports of results for people reading a terminal (pure)."""

from collections.abc import Sequence
from dataclasses import dataclass

from dedup.core.language import UNKNOWN, detect
from dedup.core.markers import Marker
from dedup.core.matching import UNSTORED_ID, Result

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
    result: Result | None
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


def describe_result(result: Result, name: str, passages: int = 1) -> list[str]:
    """The lines that say what an article is, what it matches and which is the original."""
    article = result.article
    ident = f"id {article.id}" if result.stored else "not stored"
    lines = [
        f"{name}  ({article.site}, {ident}, {result.word_count} words, language {article.language})"
    ]
    marker_lines = describe_markers(result.markers)
    lines += [f"  {line}" for line in marker_lines] or ["  no republishing markers found"]
    source_language = translated_from(article.language, result.markers)
    if source_language and not any(m.verified_by == "meaning" for m in result.matches):
        lines.append(
            f"  a translation from {source_language}: its translator credit is written in "
            f"{source_language}; its source is not stored"
        )
    if result.meaning:
        lines.append(f"  translations: {result.meaning}")
    if not result.matches:
        lines.append("  copies: no stored article shares enough text to be a copy or a source")
    for match in result.matches:
        other, scores = match.article, match.scores
        if match.verified_by == "meaning" and match.sentences is not None:
            pairs = match.sentences
            lines.append(
                f"  {match.relation} of id {other.id} ({other.site}, language "
                f"{other.language}), copy type {match.copy_type}: {len(pairs.pairs)} sentence "
                f"pairs in the same order by meaning, covering {pairs.explained:.0%} of this "
                f"text and {pairs.explained_by:.0%} of the match"
            )
            for pair in pairs.pairs[:passages]:
                mine = _short(article.text[pair.start : pair.end], PASSAGE_PREVIEW_CHARS)
                theirs = _short(
                    other.text[pair.match_start : pair.match_end], PASSAGE_PREVIEW_CHARS
                )
                lines.append(f"    this  [{pair.start}:{pair.end}] “{mine}”")
                lines.append(f"    match [{pair.match_start}:{pair.match_end}] “{theirs}”")
            continue
        lines.append(
            f"  {match.relation} of id {other.id} ({other.site}), copy type {match.copy_type}: "
            f"containment {scores.containment:.2f}, contained_by {scores.contained_by:.2f}, "
            f"jaccard {scores.jaccard:.2f}, simhash distance {scores.simhash_distance}, "
            f"{match.alignment.shared_words} shared words in "
            f"{len(match.alignment.passages)} passage(s)"
        )
        for passage in match.alignment.passages[:passages]:
            mine = _short(article.text[passage.start : passage.end], PASSAGE_PREVIEW_CHARS)
            theirs = _short(
                other.text[passage.match_start : passage.match_end], PASSAGE_PREVIEW_CHARS
            )
            lines.append(f"    this  [{passage.start}:{passage.end}] “{mine}”")
            lines.append(f"    match [{passage.match_start}:{passage.match_end}] “{theirs}”")
    original = result.original
    if original.id in (UNSTORED_ID, str(article.id)):
        who = "itself"
    else:
        source = result.original_article()
        who = f"id {source.id} ({source.site})"
    lines.append(f"  likely original: {who}, confidence {original.confidence:.2f}")
    lines += [f"    - {reason}" for reason in original.reasons]
    return lines


def scan_report(items: Sequence[Scanned], seconds: float) -> str:
    """The report that ends a scan: each article, then the copy pairs among all of them."""
    done = [item for item in items if item.result is not None]
    failed = [item for item in items if item.result is None]
    created = sum(1 for item in done if item.result and item.result.created)
    lines = [
        f"Scanned {len(items)} article(s) in {seconds:.1f} s: {created} stored, "
        f"{len(done) - created} already stored, {len(failed)} failed.",
        "",
    ]
    for item in done:
        assert item.result is not None
        lines += describe_result(item.result, item.name)
        lines.append("")
    if failed:
        lines.append("Failed:")
        lines += [f"  {item.origin}: {item.error}" for item in failed]
        lines.append("")
    pairs = sorted(
        {
            tuple(sorted((item.result.article.id, match.article.id)))
            for item in done
            if item.result
            for match in item.result.matches
        }
    )
    if pairs:
        lines.append(f"Copy pairs: {len(pairs)}")
        names = {item.result.article.id: item.name for item in done if item.result}
        for first, second in pairs:
            first_name = names.get(first, "stored before")
            second_name = names.get(second, "stored before")
            lines.append(f"  id {first} ({first_name}) ~ id {second} ({second_name})")
    else:
        lines.append(
            f"Copy pairs: none. No article of these {len(done)} is a near-copy, excerpt or "
            "container of another or of any stored article: no pair passed the verification bar."
        )
    return "\n".join(lines)
