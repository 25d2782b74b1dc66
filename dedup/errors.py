"""One tree of errors, translated once at each edge (API status, CLI exit code)."""


class DedupError(Exception):
    """Base class for every error this project raises on purpose."""


class InvalidArticle(DedupError):
    """The article cannot be fingerprinted as sent (API 422, CLI exit 2)."""


class ArticleNotFound(DedupError):
    """No stored article has this id (API 404, CLI exit 1)."""


class UrlConflict(DedupError):
    """The url is stored already with a different text (API 409, CLI exit 1)."""

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class StoreUnavailable(DedupError):
    """Redis did not answer; nothing was written (API 503, CLI exit 3)."""


class ScanNotFound(DedupError):
    """No scan has this id (API 404, CLI exit 1)."""


class ScanTooLarge(DedupError):
    """A scan upload is over DEDUP_MAX_SCAN_BYTES (API 413)."""


class SiteNotFound(DedupError):
    """No article of this site has been counted (API 404, CLI exit 1)."""


class IndexMismatch(DedupError):
    """The index was built with other fingerprint parameters (API 500, CLI exit 4)."""


class InvalidSettings(DedupError):
    """A combination of DEDUP_* settings that cannot work (API 500, CLI exit 2)."""


STATUS_FOR: dict[type[DedupError], int] = {
    InvalidArticle: 422,
    ArticleNotFound: 404,
    UrlConflict: 409,
    StoreUnavailable: 503,
    IndexMismatch: 500,
    ScanNotFound: 404,
    ScanTooLarge: 413,
    SiteNotFound: 404,
    InvalidSettings: 500,
}

EXIT_CODES: dict[type[DedupError], int] = {
    InvalidArticle: 2,
    ArticleNotFound: 1,
    UrlConflict: 1,
    StoreUnavailable: 3,
    IndexMismatch: 4,
    ScanNotFound: 1,
    ScanTooLarge: 2,
    SiteNotFound: 1,
    InvalidSettings: 2,
}
