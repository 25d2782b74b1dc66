"""A deployment's exclusions, applied when an article is checked (no re-indexing needed).

- **Excluded sites** are never named as sources or copies: a publisher's own syndication
  partners, say. A check of an excluded site's article finds nothing; any other check never
  lists an excluded site's article.
- **Boilerplate phrases** (shared legal footers, newsletter blurbs) are ignored in matching:
  each occurrence is blanked, every character replaced by a space, in the text a check
  fingerprints and in both texts it verifies. Offsets into the texts therefore stay exact,
  and the passages shown are cut from the texts as sent. Matching ignores case and the
  spacing between the phrase's words.
"""

import re
from dataclasses import dataclass, field
from functools import cached_property

MIN_PHRASE_CHARS = 8  # shorter phrases would blank ordinary words


@dataclass(frozen=True)
class Policy:
    """What a deployment excludes from matching."""

    excluded_sites: frozenset[str] = frozenset()
    phrases: tuple[str, ...] = ()
    watched_sites: frozenset[str] = field(default=frozenset())  # alerts only, no effect here

    def excludes(self, site: str) -> bool:
        return site.lower() in self.excluded_sites

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.phrases:
            return None
        # longest first, so that a phrase inside a longer one never cuts it short
        parts = [
            r"\s+".join(re.escape(word) for word in phrase.split())
            for phrase in sorted(self.phrases, key=len, reverse=True)
        ]
        return re.compile("|".join(f"(?:{part})" for part in parts if part), re.IGNORECASE)

    def blank(self, text: str) -> str:
        """The text with every boilerplate phrase replaced by as many spaces.

        >>> footer = Policy(phrases=("All rights  reserved",))
        >>> blanked = footer.blank("News. ALL RIGHTS\\nRESERVED.")
        >>> blanked.split(), len(blanked)
        (['News.', '.'], 26)
        """
        pattern = self._pattern
        if pattern is None:
            return text
        return pattern.sub(lambda found: " " * len(found.group(0)), text)


NO_POLICY = Policy()
