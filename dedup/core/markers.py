"""Republishing markers: credit lines, aggregator chrome, spun phrases, translator credits.

Each marker carries its span in the display text so a person can check it. The phrase lists
live in `dedup/core/markers.json`, not in code.
"""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

Kind = Literal["credit", "chrome", "byline", "translation", "machine", "spin"]
KINDS: tuple[Kind, ...] = ("credit", "chrome", "byline", "translation", "machine", "spin")


@dataclass(frozen=True, slots=True)
class Marker:
    """One republishing marker found in a text."""

    kind: Kind
    label: str
    text: str  # the display text at [start, end)
    start: int
    end: int
    detail: str | None = None  # credited outlet, or the phrase a spun one replaced


@dataclass(frozen=True, slots=True)
class Rule:
    kind: Kind
    label: str
    pattern: re.Pattern[str]
    requires: tuple[str, ...] = ()  # lower-case words, one of which must be in the text


@dataclass(frozen=True, slots=True)
class Rules:
    """Compiled marker rules plus the sites for which a credit is their own byline.

    Spun phrases are many and short, so they share one alternation (one scan of the text);
    `spin_canonical` maps each spun phrase (lower case, single spaces) to what it replaced.
    """

    rules: tuple[Rule, ...]
    owner_sites: dict[str, tuple[str, ...]]
    spin: re.Pattern[str] | None = None
    spin_canonical: dict[str, str] | None = None
    # The first and last word of each spun phrase: a text that holds both words of no phrase
    # skips the scan.
    spin_ends: tuple[tuple[str, str], ...] = ()


def compile_rules(data: dict[str, object]) -> Rules:
    """Compile the rules of a markers document (the shape of `markers.json`)."""
    rules: list[Rule] = []
    for kind in KINDS:
        if kind == "spin":
            continue
        for entry in data.get(kind, []):  # type: ignore[attr-defined]
            requires = tuple(entry.get("requires", ()))
            rules.append(Rule(kind, entry["label"], re.compile(entry["pattern"]), requires))
    spun = data.get("spin", [])
    canonical = {" ".join(e["spun"].lower().split()): e["canonical"] for e in spun}  # type: ignore[attr-defined]
    alternatives = sorted(canonical, key=len, reverse=True)  # longest phrase wins
    spin = None
    if alternatives:
        body = "|".join(
            r"\s+".join(re.escape(w) for w in phrase.split()) for phrase in alternatives
        )
        spin = re.compile(rf"\b(?:{body})\b")  # matched against lower-cased text
    owners = data.get("owner_sites", {})
    owner_sites = {name: tuple(sites) for name, sites in owners.items()}  # type: ignore[attr-defined]
    ends = tuple((phrase.split()[0], phrase.split()[-1]) for phrase in alternatives)
    return Rules(tuple(rules), owner_sites, spin, canonical, ends)


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The rules shipped in the package (read once; they never change at run time)."""
    raw = resources.files("dedup.core").joinpath("markers.json").read_text(encoding="utf-8")
    return compile_rules(json.loads(raw))


def find_markers(text: str, rules: Rules | None = None) -> list[Marker]:
    """Every marker in the text, in text order.

    >>> [(m.kind, m.text, m.detail) for m in find_markers("MOSCOW (AP) - the Chilly Battle")]
    [('credit', '(AP)', 'AP'), ('spin', 'Chilly Battle', 'Cold War')]
    """
    rules = rules or default_rules()
    lowered = text.lower()  # the rules' 'requires' words are looked for here first
    found: list[Marker] = []
    for rule in rules.rules:
        if rule.requires and not any(word in lowered for word in rule.requires):
            continue
        for match in rule.pattern.finditer(text):
            detail = match.group(1).strip() if rule.kind == "credit" and match.groups() else None
            found.append(
                Marker(rule.kind, rule.label, match.group(), match.start(), match.end(), detail)
            )
    maybe_spun = not rules.spin_ends or any(
        first in lowered and last in lowered for first, last in rules.spin_ends
    )
    if rules.spin is not None and rules.spin_canonical is not None and maybe_spun:
        # Lower-casing keeps offsets unless a letter changes length (rare: 'İ'); then the
        # slower case-insensitive scan of the text itself.
        same_length = len(lowered) == len(text)
        haystack = lowered if same_length else text
        pattern = rules.spin if same_length else re.compile(rules.spin.pattern, re.IGNORECASE)
        for match in pattern.finditer(haystack):
            start, end = match.span()
            phrase = " ".join(match.group().lower().split())
            found.append(
                Marker(
                    "spin", "spun phrase", text[start:end], start, end, rules.spin_canonical[phrase]
                )
            )
    found.sort(key=lambda m: (m.start, m.end))
    return found


def credits_other_outlet(marker: Marker, site: str, rules: Rules | None = None) -> bool:
    """Whether a credit marker names an outlet other than the article's own site.

    >>> m = Marker("credit", "wire dateline credit", "(AP)", 0, 4, "AP")
    >>> credits_other_outlet(m, "apnews.com"), credits_other_outlet(m, "infonews.ca")
    (False, True)
    """
    if marker.kind != "credit" or not marker.detail:
        return False
    rules = rules or default_rules()
    owners = rules.owner_sites.get(marker.detail, ())
    site = site.lower()
    if any(site == owner or site.endswith("." + owner) for owner in owners):
        return False
    compact_outlet = re.sub(r"[^a-z0-9]", "", marker.detail.lower())
    compact_site = re.sub(r"[^a-z0-9]", "", site.split(".")[0]) if site else ""
    return not (compact_site and compact_site == compact_outlet)


def credits_another_outlet(
    markers: Iterable[Marker], site: str, rules: Rules | None = None
) -> bool:
    """Whether any of an article's credit markers names an outlet other than its own site."""
    return any(credits_other_outlet(m, site, rules) for m in markers if m.kind == "credit")
