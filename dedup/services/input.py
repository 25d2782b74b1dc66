"""Articles arriving from outside (API bodies, JSONL lines, files), validated one way.

`ArticleIn` is the one definition of a valid article; the API, the CLI and the workers all
use it, so a line that fails in a scan fails the same way over HTTP.
"""

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dedup.core.article import ArticleInput
from dedup.core.text import unicode_problem

TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
MANIFEST = "manifest.json"


_CONTROL = re.compile("[\x00-\x1f\x7f]")


class ArticleIn(BaseModel):
    """An article to store or check: its url and exactly one of text or html."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://coastnews.example/2005/01/pier-deal",
                    "text": "The harbour authority of Port Ellery approved a plan on Monday "
                    "to rebuild the town's storm-damaged north pier, ending two years of "
                    "argument over who should pay for the work.",
                    "published_at": "2005-01-10T09:00:00Z",
                }
            ]
        },
    )

    url: str = Field(
        max_length=2048,
        description="Where the article was published: an absolute http or https url with a "
        "host. One url holds one text: the same url with another text is a 409.",
    )
    text: str | None = Field(
        default=None,
        description="The article as plain text: at least DEDUP_MIN_WORDS words (20 by "
        "default; fewer is a 422), no lone surrogates. Send exactly one of text or html.",
    )
    html: str | None = Field(
        default=None,
        description="The page's HTML; its main text is used (and must hold DEDUP_MIN_WORDS "
        "words). Send exactly one of text or html.",
    )
    title: str | None = Field(default=None, max_length=1000)
    site: str | None = Field(
        default=None,
        max_length=253,
        description="The site the article counts for: a name such as 'example.com', no "
        "control characters, lower-cased. Defaults to the url's host without 'www.'.",
    )
    published_at: datetime | None = Field(
        default=None, description="ISO 8601; without a zone it is taken as UTC."
    )

    @field_validator("url", "text", "html", "title", "site")
    @classmethod
    def _valid_unicode(cls, value: str | None) -> str | None:
        problem = None if value is None else unicode_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("site")
    @classmethod
    def _site_name(cls, site: str | None) -> str | None:
        if site is None:
            return None
        name = site.strip().lower()
        if not name or _CONTROL.search(name):
            raise ValueError(
                f"must be a site name such as 'example.com' (no control characters), got {site!r}"
            )
        return name

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an absolute http or https URL with a host, got {url!r}")
        return url

    @model_validator(mode="after")
    def _exactly_one_body(self) -> "ArticleIn":
        if (self.text is None) == (self.html is None):
            given = "both" if self.text is not None else "neither"
            raise ValueError(f"send exactly one of 'text' or 'html' (got {given})")
        return self

    @classmethod
    def of_input(cls, article: ArticleInput) -> "ArticleIn":
        """The body that stands for an article read from a file (validated as any body is:
        pydantic's ValidationError when it is not one the API would take)."""
        return cls.model_validate(
            {
                "url": article.url,
                "text": article.text,
                "html": article.html,
                "title": article.title,
                "site": article.site,
                "published_at": article.published_at,
            }
        )

    def to_input(self) -> ArticleInput:
        return ArticleInput(
            url=self.url,
            text=self.text,
            html=self.html,
            title=self.title,
            site=self.site,
            published_at=self.published_at,
        )


def is_ndjson(content_type: bytes) -> bool:
    """Whether a content type announces one JSON document per line.

    >>> is_ndjson(b"application/x-ndjson; charset=utf-8"), is_ndjson(b"application/json")
    (True, False)
    """
    kind = content_type.split(b";")[0].strip().lower()
    return kind in (b"application/x-ndjson", b"application/ndjson", b"application/jsonl")


def describe(errors: Sequence[Mapping[str, Any]]) -> str:
    """Validation errors as one line: 'field: message; field: message'."""
    parts = []
    for item in errors:
        where = ".".join(str(p) for p in item.get("loc", ()) if p != "body") or "article"
        parts.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(parts)


class LineReader:
    r"""Cuts a stream of bytes into numbered lines in linear time, without holding a line
    longer than `max_line_bytes`: such a line becomes an item with a reason instead (its
    bytes are dropped as they arrive), so one endless line costs memory of one limit.

    >>> reader = LineReader(8)
    >>> lines = [*reader.feed(b'{"a": 1}\nxx'), *reader.feed(b"yyyyyyyyy\nz"), *reader.end()]
    >>> lines[0], lines[2]
    ((1, b'{"a": 1}', None), (3, b'z', None))
    >>> lines[1]
    (2, b'', 'line is over 8 bytes (DEDUP_MAX_LINE_BYTES)')
    """

    def __init__(self, max_line_bytes: int) -> None:
        self.max_line_bytes = max_line_bytes
        self._pending = bytearray()
        self._line = 0
        self._too_long = False  # the current line is over the limit: drop it to its end

    def feed(self, piece: bytes) -> Iterator[tuple[int, bytes, str | None]]:
        """(number, raw line, problem or None) for each line this piece completes."""
        start = 0
        while (end := piece.find(b"\n", start)) >= 0:
            yield self._close(piece[start:end])
            start = end + 1
        self._add(piece[start:])

    def end(self) -> Iterator[tuple[int, bytes, str | None]]:
        """The last line, if the stream did not end with a newline."""
        if self._pending or self._too_long:
            yield self._close(b"")

    def _add(self, part: bytes) -> None:
        if self._too_long:
            return
        if len(self._pending) + len(part) > self.max_line_bytes:
            self._too_long = True
            self._pending.clear()
        else:
            self._pending += part

    def _close(self, tail: bytes) -> tuple[int, bytes, str | None]:
        self._add(tail)
        self._line += 1
        if self._too_long:
            self._too_long = False
            return (
                self._line,
                b"",
                f"line is over {self.max_line_bytes} bytes (DEDUP_MAX_LINE_BYTES)",
            )
        raw = bytes(self._pending)
        self._pending.clear()
        return self._line, raw, None


@dataclass(frozen=True, slots=True)
class Item:
    """One article read from a file, or the reason it could not be read."""

    origin: str  # path, or path:line for JSONL
    name: str  # short name for reports
    article: ArticleInput | None
    error: str | None = None


LOCAL_HOST = "local.invalid"  # RFC 2606: a name that can never be a real site


def local_url(path: Path) -> str:
    """The url a local file without a known url goes by, valid wherever an article url is.

    >>> local_url(Path("/data/dump/a.txt"))
    'https://local.invalid/data/dump/a.txt'
    """
    return f"https://{LOCAL_HOST}{quote(path.resolve().as_posix())}"


def find_files(paths: list[Path]) -> list[Path]:
    """The .txt, .html/.htm and .jsonl/.ndjson files among paths and under folders, sorted."""
    suffixes = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes
            )
        elif path.suffix.lower() in suffixes:
            found.append(path)
    return found


def count_items(files: list[Path]) -> int:
    """How many articles the files hold (one per text/HTML file, one per JSONL line)."""
    total = 0
    for file in files:
        if file.suffix.lower() in JSONL_SUFFIXES:
            with file.open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        else:
            total += 1
    return total


def _manifest(
    folder: Path, cache: dict[Path, dict[str, dict[str, object]]]
) -> dict[str, dict[str, object]]:
    if folder not in cache:
        path = folder / MANIFEST
        cache[folder] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return cache[folder]


def _from_file(file: Path, manifest: dict[str, dict[str, object]]) -> Item:
    origin = str(file)
    try:
        content = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Item(origin, file.name, None, f"not valid UTF-8 (byte offset {exc.start})")
    entry = manifest.get(file.name, {})
    is_html = file.suffix.lower() in HTML_SUFFIXES
    try:
        published_at = (
            datetime.fromisoformat(str(entry["published_at"]))
            if entry.get("published_at")
            else None
        )
    except ValueError as exc:
        return Item(origin, file.name, None, f"{MANIFEST}: published_at: {exc}")
    article = ArticleInput(
        url=str(entry.get("url") or local_url(file)),
        text=None if is_html else content,
        html=content if is_html else None,
        title=str(entry["title"]) if entry.get("title") else None,
        site=str(entry.get("site") or "local"),
        published_at=published_at,
    )
    return Item(origin, file.name, article)


def parse_line(raw: bytes | str, origin: str) -> Item:
    """One JSONL/NDJSON line as an article, or the reason it is not one."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Item(origin, origin, None, f"line is not valid UTF-8 (byte offset {exc.start})")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Item(origin, origin, None, f"line is not JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:  # json nests by recursion: a hostile line ends it at ~1,000 levels
        return Item(origin, origin, None, "line is JSON nested too deeply to be an article")
    if not isinstance(data, dict):
        return Item(origin, origin, None, "line is not a JSON object")
    try:
        return Item(origin, str(data.get("url", origin)), ArticleIn.model_validate(data).to_input())
    except ValidationError as exc:
        return Item(origin, origin, None, describe(exc.errors()))


def _from_jsonl(file: Path) -> Iterator[Item]:
    with file.open("rb") as handle:
        number = 0
        for raw in handle:
            if raw.strip():
                number += 1
                yield parse_line(raw, f"{file}:{number}")


def read_items(files: list[Path]) -> Iterator[Item]:
    """Every article of the files, in order; unreadable ones as items with an error."""
    manifests: dict[Path, dict[str, dict[str, object]]] = {}
    for file in files:
        if file.suffix.lower() in JSONL_SUFFIXES:
            yield from _from_jsonl(file)
        else:
            yield _from_file(file, _manifest(file.parent, manifests))
