"""Retention: articles first seen before the window (DEDUP_RETENTION_DAYS) leave the index."""

import logging
from datetime import UTC, datetime, timedelta

from dedup.services.detector import Detector
from dedup.services.sites import Sites

log = logging.getLogger(__name__)


def evict_expired(detector: Detector, sites: Sites, now: datetime | None = None) -> int:
    """Remove one batch (DEDUP_EVICT_BATCH) of the articles first seen before the retention
    window from the record, every index and the per-article site parts; returns how many
    were removed (0 when retention is off or nothing is due). Callers repeat it until it
    returns 0."""
    settings = detector.settings
    if settings.retention_days <= 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=settings.retention_days)
    due, removed = detector.evict_seen_before(cutoff, settings.evict_batch)
    if not due:
        detector.drop_leads_before(cutoff - timedelta(days=settings.semantic_window_days))
        return 0
    sites.forget(removed)
    log.info("evicted %d article(s) first seen before %s", due, cutoff.isoformat())
    return due
