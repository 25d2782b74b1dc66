"""One tree of errors, translated once at each edge.

Each class carries the HTTP status the API answers with and the exit code the CLI ends
with, so the two edges read one table: the classes below. Anything raised that is not a
`DedupError` is a bug: the API answers it with a JSON 500 and a request id, the CLI with
exit code 70 and the traceback in the log.
"""


class DedupError(Exception):
    """Base class for every error this project raises on purpose."""

    status = 500  # HTTP status at the API
    exit_code = 1  # exit code of the CLI


class InvalidArticle(DedupError):
    """The article cannot be fingerprinted as sent."""

    status, exit_code = 422, 2


class ArticleNotFound(DedupError):
    """No stored article has this id."""

    status, exit_code = 404, 1


class UrlConflict(DedupError):
    """The url is stored already with a different text."""

    status, exit_code = 409, 1

    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class StoreUnavailable(DedupError):
    """Redis did not answer; nothing was written. Retrying later is the remedy."""

    status, exit_code = 503, 3


class QueueUnavailable(StoreUnavailable):
    """The worker queue's Redis did not answer; no job was queued."""


class ScriptFailed(DedupError):
    """A store script was refused by Redis (a bug or a damaged key, not an outage):
    retrying does not help, so it is not StoreUnavailable."""

    status, exit_code = 500, 4


class ScanNotFound(DedupError):
    """No scan has this id."""

    status, exit_code = 404, 1


class ScanFinished(DedupError):
    """The scan has ended already (done, failed or cancelled): nothing to cancel."""

    status, exit_code = 409, 1


class ScanTooLarge(DedupError):
    """A scan upload is over DEDUP_MAX_SCAN_BYTES."""

    status, exit_code = 413, 2


class UploadTimeout(DedupError):
    """A streamed upload did not arrive within DEDUP_BODY_TIMEOUT_SECONDS."""

    status, exit_code = 408, 2


class SiteNotFound(DedupError):
    """No article of this site has been counted."""

    status, exit_code = 404, 1


class IndexMismatch(DedupError):
    """The index was built with other fingerprint parameters or another layout."""

    status, exit_code = 500, 4


class InvalidSettings(DedupError):
    """A DEDUP_* setting, or a combination of them, that cannot work."""

    status, exit_code = 500, 2


class UsageError(DedupError):
    """A command was given arguments it cannot work with (no files, a bad corpus, ...)."""

    status, exit_code = 400, 2


class ItemsFailed(DedupError):
    """A command finished, but some of its articles failed (each is listed)."""

    status, exit_code = 422, 1


EXIT_BUG = 70  # EX_SOFTWARE: an exception that is not a DedupError


class Unauthorized(DedupError):
    """No API key, or one this deployment does not know (revoked, mistyped)."""

    status, exit_code = 401, 2


class Forbidden(DedupError):
    """The API key lacks the scope this request needs."""

    status, exit_code = 403, 2


class QuotaExceeded(DedupError):
    """A key's requests per minute or articles per day are spent; retry after the wait."""

    status, exit_code = 429, 3

    def __init__(self, message: str, retry_after: int, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = headers


class NotFound(DedupError):
    """No API key, webhook, phrase or listed site by this name or id."""

    status, exit_code = 404, 1


class Conflict(DedupError):
    """The name is taken (an API key of that name exists)."""

    status, exit_code = 409, 1


class InvalidRequest(DedupError):
    """A request (or command) names something that cannot be: a bad url, scope or event."""

    status, exit_code = 422, 2
