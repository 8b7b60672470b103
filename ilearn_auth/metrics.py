"""Prometheus metrics: the objects the login path updates, and the ``/metrics`` view.

Two kinds, by where the truth lives:

- Counters and histograms of the web processes (logins, callback latency, calls to LeerID,
  privacy-log writes in ``privacy.metrics``). Under gunicorn every worker writes them to files
  in ``PROMETHEUS_MULTIPROC_DIR`` (set by gunicorn.conf.py) and ``/metrics`` adds them up, so
  a scrape sees the whole replica whichever worker answers it.
- State kept in the database or the cache, read at scrape time (``StateCollector``): retention
  runs (done by a Celery worker) and the privacy log's last verification (done by a command or
  a task). One replica's answer is then as good as another's.

Names and labels carry no personal data: reasons are the fixed codes of the login path.
``/metrics`` answers only the addresses in ``METRICS_ALLOWED_IPS`` (docs/operations.md).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
from collections.abc import Iterator

import requests
from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

# --- The login path (one call each at its decision points) -----------------------------------
LOGINS = Counter(
    "ilearn_logins",
    "Logins that ended, by outcome (granted, refused, broken, unavailable) and reason code.",
    ["outcome", "reason"],
)
CALLBACK_SECONDS = Histogram(
    "ilearn_login_callback_seconds",
    "Time spent in /oidc/callback/ (code exchange, token checks, userinfo, recording).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8),
)
OP_REQUEST_SECONDS = Histogram(
    "ilearn_op_request_seconds",
    "HTTP requests to LeerID, by endpoint (discovery, jwks, token, userinfo).",
    ["endpoint"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4),
)
OP_REQUEST_ERRORS = Counter(
    "ilearn_op_request_errors",
    "HTTP requests to LeerID that failed, by endpoint and kind (timeout, connection, status).",
    ["endpoint", "kind"],
)


def login_decided(*, outcome: str, reason: str = "") -> None:
    """Count one ended login: ``granted``, or a failure's category (``refused``: the pupil may
    not; ``broken``: a bad or forged response; ``unavailable``: LeerID or we are down)."""
    LOGINS.labels(outcome=outcome, reason=reason or "none").inc()


def op_request_done(
    *,
    endpoint: str,
    seconds: float,
    response: requests.Response | None = None,
    error: Exception | None = None,
) -> None:
    """Time one call to LeerID; count it as an error when it raised or answered 4xx/5xx."""
    OP_REQUEST_SECONDS.labels(endpoint=endpoint).observe(seconds)
    if error is not None:
        kind = "timeout" if isinstance(error, requests.Timeout) else "connection"
        OP_REQUEST_ERRORS.labels(endpoint=endpoint, kind=kind).inc()
    elif response is not None and response.status_code >= 400:
        kind = f"http_{response.status_code // 100}xx"
        OP_REQUEST_ERRORS.labels(endpoint=endpoint, kind=kind).inc()


# --- State read at scrape time -----------------------------------------------------------------


class StateCollector:
    """Retention and privacy-log state from the database and the cache, per scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._retention()
        yield from self._verification()
        yield from self._sealer()

    def _retention(self) -> Iterator[GaugeMetricFamily]:
        from retention.models import RetentionRun

        last_success = GaugeMetricFamily(
            "ilearn_retention_last_success_timestamp_seconds",
            "When the last successful (not dry) run of each retention rule finished.",
            labels=["rule"],
        )
        rows = GaugeMetricFamily(
            "ilearn_retention_rows",
            "Rows deleted by the last successful run of each retention rule.",
            labels=["rule"],
        )
        up = GaugeMetricFamily("ilearn_metrics_database_up", "1 when the state query worked.")
        try:
            seen: set[str] = set()
            runs = RetentionRun.objects.filter(
                status=RetentionRun.Status.SUCCESS, dry_run=False, finished_at__isnull=False
            ).order_by("-finished_at")
            # A handful of rows a day: the newest few hundred cover every rule.
            for finished_at, counts in runs.values_list("finished_at", "counts")[:300]:
                for rule, count in counts.items():
                    if rule not in seen:
                        seen.add(rule)
                        last_success.add_metric([rule], finished_at.timestamp())
                        rows.add_metric([rule], float(count))
        except DatabaseError:
            logger.warning("metrics: the database did not answer the retention query")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield from (last_success, rows, up)

    def _verification(self) -> Iterator[GaugeMetricFamily]:
        from privacy.metrics import last_verification

        try:
            last = last_verification()
        except Exception:  # the cache (Redis) may be down: say nothing rather than fail
            logger.warning("metrics: the cache did not answer")
            return
        if not last:
            return
        yield GaugeMetricFamily(
            "ilearn_privacy_log_last_verification_timestamp_seconds",
            "When verify_privacy_log last walked the hash chain.",
            value=last["at"],
        )
        yield GaugeMetricFamily(
            "ilearn_privacy_log_last_verification_ok",
            "1 when the last verification found the chain intact, 0 when broken.",
            value=1.0 if last["ok"] else 0.0,
        )
        yield GaugeMetricFamily(
            "ilearn_privacy_log_verified_entries",
            "Entries the last verification walked.",
            value=float(last["entries"]),
        )

    def _sealer(self) -> Iterator[GaugeMetricFamily]:
        from privacy.selectors import privacy_log_pending_state

        try:
            count, oldest = privacy_log_pending_state()
        except DatabaseError:
            return  # the retention query has reported the database down already
        yield GaugeMetricFamily(
            "ilearn_privacy_log_pending_entries",
            "Privacy-log entries written and durable but not yet sealed into the chain.",
            value=float(count),
        )
        age = 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())
        yield GaugeMetricFamily(
            "ilearn_privacy_log_oldest_pending_age_seconds",
            "How long the oldest unsealed entry has waited (0 when none waits).",
            value=age,
        )


def allowed(request: HttpRequest) -> bool:
    """The client is listed in METRICS_ALLOWED_IPS and did not come through the proxy."""
    if "X-Forwarded-For" in request.headers:
        return False
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        client in ipaddress.ip_network(entry, strict=False)
        for entry in settings.METRICS_ALLOWED_IPS
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        raise Http404
    started = time.monotonic()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    state = CollectorRegistry()
    state.register(StateCollector())
    body = generate_latest(processes) + generate_latest(state)
    logger.debug("metrics rendered in %.3f s", time.monotonic() - started)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
