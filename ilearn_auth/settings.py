"""Settings for i-Learn Auth: everything comes from the environment (see .env.example).

Defaults let a fresh checkout run with nothing but Python: a SQLite file, no Redis (Celery then
runs tasks in-process), DEBUG off unless asked for. With DEBUG off the secrets must be real.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from ilearn_auth.beat_schedule import beat_schedule, seal_entry
from ilearn_auth.components import *  # noqa: F403 - the settings no variable changes
from ilearn_auth.components import BASE_DIR
from ilearn_auth.logging_config import logging_config
from ilearn_auth.secret_checks import (
    DEV_PSEUDONYM_KEY,
    DEV_SECRET_KEY,
    checked_encryption_keys,
    checked_secret,
)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Tests and the local demo may talk to an OpenID Provider over plain http on loopback.
ALLOW_INSECURE_LOOPBACK_ISSUER = env.bool("ALLOW_INSECURE_LOOPBACK_ISSUER", default=False)

# --- Secrets -------------------------------------------------------------------------------
# The checks (ilearn_auth/secret_checks.py): with DEBUG off, no placeholder, nothing short.
SECRET_KEY = checked_secret(
    "SECRET_KEY", env.str("SECRET_KEY", default=""), DEV_SECRET_KEY, debug=DEBUG
)
PSEUDONYM_KEY = checked_secret(
    "PSEUDONYM_KEY", env.str("PSEUDONYM_KEY", default=""), DEV_PSEUDONYM_KEY, debug=DEBUG
)
# The first key encrypts, all of them decrypt: prepend a new key to rotate.
FIELD_ENCRYPTION_KEYS = checked_encryption_keys(
    "FIELD_ENCRYPTION_KEYS", env.str("FIELD_ENCRYPTION_KEYS", default=""), debug=DEBUG
)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications ----------------------------------------------------------------------------
# No variable changes these (ilearn_auth/components.py): INSTALLED_APPS, MIDDLEWARE, TEMPLATES,
# the password validators and authentication backends, the staff's personal-data permissions
# and django-otp's, the readiness checks, and the Content-Security-Policy.
ROOT_URLCONF = "ilearn_auth.urls"
WSGI_APPLICATION = "ilearn_auth.wsgi.application"

# --- Database --------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DB_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if DB_IS_POSTGRES:
    # Fail fast when the database is down, so pages answer 503 within seconds.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    )
    # A slow database must not hold a pupil's page: gunicorn.conf.py sets 5 s for web
    # processes. 0 (the default) means no limit, for workers, commands and migrations.
    _statement_timeout_ms = env.int("DATABASE_STATEMENT_TIMEOUT", default=0)
    if _statement_timeout_ms:
        DATABASES["default"]["OPTIONS"]["options"] = f"-c statement_timeout={_statement_timeout_ms}"
    # Statements run through a server-binding cursor are prepared on the connection after
    # this many calls: only privacy.log's pending INSERT uses one (privacy.services); Django's
    # own cursors bind on the client and are never prepared (docs/decisions.md, issue 15).
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A morning rush on the embedded database (docs/decisions.md): WAL lets readers go on
    # while one writer writes; BEGIN IMMEDIATE takes the write lock when a transaction starts,
    # so two logins never both read and then both fail to upgrade to writing ("database is
    # locked" at once, whatever the timeout); the busy timeout makes writers queue instead.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("DATABASE_BUSY_TIMEOUT", default=10),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and cache ----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ----------------------------------------------------------------------------------
# Without Redis there is no broker: tasks run in-process, at once (see docs/decisions.md).
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# The worker logs through LOGGING below (redaction, request id, LOG_FORMAT), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Where the one beat keeps its schedule state (`celery beat` without --schedule reads this).
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME",
    default="/tmp/celerybeat-schedule",  # noqa: S108
)
# RETENTION_SCHEDULE_SECONDS (tests and drills only): every retention task every N seconds on
# the clock instead of daily (ilearn_auth/beat_schedule.py says why on the clock).
RETENTION_SCHEDULE_SECONDS = env.int("RETENTION_SCHEDULE_SECONDS", default=0)
# Every periodic schedule lives in ilearn_auth/beat_schedule.py, in UTC, away from the
# 02:00-03:00 local DST hour; the privacy log's sealer is added below when it is on.
CELERY_BEAT_SCHEDULE = beat_schedule(retention_every_seconds=RETENTION_SCHEDULE_SECONDS)

# --- Retention (retention/policy.py) ---------------------------------------------------------


def _retention_days(name: str, *, maximum: int) -> int:
    """A retention period in days: the protocol's maximum by default, shorter allowed."""
    days = env.int(name, default=maximum)
    if not 1 <= days <= maximum:
        # Longer keeps data the protocol says to delete; 0 would delete every row at once.
        raise ImproperlyConfigured(
            f"{name} must be between 1 and {maximum} days (the protocol's maximum); got {days}."
        )
    return days


# Identity snapshots are deleted this many days after the login that wrote them (protocol: 1 year).
RETENTION_SNAPSHOT_DAYS = _retention_days("RETENTION_SNAPSHOT_DAYS", maximum=365)
# Pupil accounts are deleted this many days after their last login (protocol: 3 years).
RETENTION_ACCOUNT_DAYS = _retention_days("RETENTION_ACCOUNT_DAYS", maximum=1095)
# Each purge batch (one short transaction) looks at this many primary keys ...
RETENTION_SCAN_SIZE = env.int("RETENTION_SCAN_SIZE", default=20000)
# ... and deletes at most this many accounts (or privacy-log entries). See docs/performance.md.
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=1000)

# --- Authentication --------------------------------------------------------------------------
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# --- Staff sign-in (staff/): second factor, lockout, session limits -------------------------
# A staff session ends after this many seconds without a request ...
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
# ... and this many seconds after sign-in, however busy.
STAFF_SESSION_MAX_SECONDS = env.int("STAFF_SESSION_MAX_SECONDS", default=8 * 3600)
# Failed sign-ins (wrong password or wrong code) within the window that lock one account, or
# one client address, for STAFF_LOCKOUT_SECONDS. The DPO can unlock earlier in the admin.
STAFF_LOCKOUT_ACCOUNT_FAILURES = env.int("STAFF_LOCKOUT_ACCOUNT_FAILURES", default=5)
STAFF_LOCKOUT_ADDRESS_FAILURES = env.int("STAFF_LOCKOUT_ADDRESS_FAILURES", default=20)
STAFF_LOCKOUT_WINDOW_SECONDS = env.int("STAFF_LOCKOUT_WINDOW_SECONDS", default=15 * 60)
STAFF_LOCKOUT_SECONDS = env.int("STAFF_LOCKOUT_SECONDS", default=15 * 60)
# The client address comes from X-Forwarded-For only when the direct peer is one of these
# proxies (addresses or networks, e.g. 10.0.0.5,172.18.0.0/16); empty: REMOTE_ADDR, always.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES holds {_proxy!r}, which is not an address or network."
        ) from exc

# --- LeerID (ACM/IDM) as OpenID Provider (see ilearn_auth/login_views.py and .env.example) --
# `make run` points at the stand-in LeerID (demo/leerid.py) on loopback.
LEERID_ISSUER = env.str("LEERID_ISSUER", default="http://127.0.0.1:9400" if DEBUG else "")
LEERID_CLIENT_ID = env.str("LEERID_CLIENT_ID", default="ilearn-demo" if DEBUG else "")
LEERID_CLIENT_SECRET = env.str(
    "LEERID_CLIENT_SECRET", default="ilearn-demo-secret" if DEBUG else ""
)
LEERID_CLIENT_AUTH = env.str("LEERID_CLIENT_AUTH", default="client_secret_basic")
LEERID_PRIVATE_KEY = env.str("LEERID_PRIVATE_KEY", default="", multiline=True)
LEERID_PRIVATE_KEY_ID = env.str("LEERID_PRIVATE_KEY_ID", default="")
# The least that yields the protocol's article 3 data (what each scope brings: .env.example).
LEERID_SCOPES = env.str("LEERID_SCOPES", default="openid profile ov_leerling")
# Public LeerID integrations report pupil tokens without `sub`; pupils are keyed on LeerID keys.
LEERID_REQUIRE_SUB = env.bool("LEERID_REQUIRE_SUB", default=False)
LEERID_USE_USERINFO = env.bool("LEERID_USE_USERINFO", default=True)
LEERID_TRUSTED_AUDIENCES = env.list("LEERID_TRUSTED_AUDIENCES", default=[])
LEERID_CONNECT_TIMEOUT = env.float("LEERID_CONNECT_TIMEOUT", default=2.0)
LEERID_READ_TIMEOUT = env.float("LEERID_READ_TIMEOUT", default=4.0)
LEERID_METADATA_TTL = env.int("LEERID_METADATA_TTL", default=3600)
LEERID_JWKS_TTL = env.int("LEERID_JWKS_TTL", default=3600)
# The refetch rule (ilearn_auth/oidc_config.py): an unknown kid refetches the keys at once, the
# same kid at most once per interval, and a process at most this many times per second.
LEERID_JWKS_REFETCH_INTERVAL = env.int("LEERID_JWKS_REFETCH_INTERVAL", default=30)
LEERID_JWKS_FETCHES_PER_SECOND = env.float("LEERID_JWKS_FETCHES_PER_SECOND", default=2.0)
if LEERID_JWKS_FETCHES_PER_SECOND < 1:
    raise ImproperlyConfigured("LEERID_JWKS_FETCHES_PER_SECOND must be at least 1.")
LEERID_CLOCK_LEEWAY = env.int("LEERID_CLOCK_LEEWAY", default=60)
LEERID_STATE_TTL = env.int("LEERID_STATE_TTL", default=600)
LEERID_POST_LOGOUT_REDIRECT_URI = env.str("LEERID_POST_LOGOUT_REDIRECT_URI", default="")
# Demo mode: the login page lists the stand-in LeerID's demo pupils (`make run` turns it on).
LEERID_DEMO = env.bool("LEERID_DEMO", default=False)
# Where demo mode finds that list (a dotted path): the login page never imports the demo folder.
LEERID_DEMO_PUPILS = "demo.pupils.DEMO_PUPILS"
_LEERID_CLIENT_AUTHS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
if LEERID_CLIENT_AUTH not in _LEERID_CLIENT_AUTHS:
    raise ImproperlyConfigured(
        f"LEERID_CLIENT_AUTH must be one of {', '.join(_LEERID_CLIENT_AUTHS)}."
    )
if LEERID_CLIENT_AUTH == "private_key_jwt" and not LEERID_PRIVATE_KEY:
    raise ImproperlyConfigured("LEERID_CLIENT_AUTH=private_key_jwt needs LEERID_PRIVATE_KEY (PEM).")
if LEERID_ISSUER:
    from ilearn_auth.oidc_config import issuer_problem

    _issuer_problem = issuer_problem(
        LEERID_ISSUER, debug=DEBUG, allow_insecure_loopback=ALLOW_INSECURE_LOOPBACK_ISSUER
    )
    if _issuer_problem:
        raise ImproperlyConfigured(_issuer_problem)

# mozilla-django-oidc's views read these (its authenticate view sends OIDC_RP_CLIENT_ID to the
# OP); endpoints come from discovery at run time (ilearn_auth.login_views).
OIDC_RP_CLIENT_ID = LEERID_CLIENT_ID
OIDC_RP_CLIENT_SECRET = LEERID_CLIENT_SECRET
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = LEERID_SCOPES
OIDC_OP_AUTHORIZATION_ENDPOINT = ""
OIDC_OP_TOKEN_ENDPOINT = ""
OIDC_OP_USER_ENDPOINT = ""
OIDC_USE_NONCE = True
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_MAX_STATES = 10
OIDC_REDIRECT_REQUIRE_HTTPS = not DEBUG
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"

# --- Sessions --------------------------------------------------------------------------------
# A pupil's session lasts a school day and ends when the browser closes.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=True)
# With Redis, sessions live there: no SQL per request for them, and a database outage still
# lets the login pages answer. Without Redis (the demo), in the database.
# ilearn_auth.session_store is Django's cache sessions in fewer Redis round trips.
SESSION_ENGINE = env.str(
    "SESSION_ENGINE",
    default="ilearn_auth.session_store" if REDIS_URL else "django.contrib.sessions.backends.db",
)
if REDIS_URL:
    # Sessions get their own cache alias (clearing the cache logs nobody out) on a Redis cache
    # that reuses its client (ilearn_auth/session_cache.py: saves CPU on every request).
    CACHES["sessions"] = {
        "BACKEND": "ilearn_auth.session_cache.ReusingRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    SESSION_CACHE_ALIAS = "sessions"

# Every this many seconds a pupil's open session asks again whether the schools that granted
# access still have an agreement in force (ilearn_auth/access_recheck.py): the longest a
# suspended school's pupils keep an open session, against one or two queries per interval.
PUPIL_ACCESS_RECHECK_SECONDS = env.int("PUPIL_ACCESS_RECHECK_SECONDS", default=300)

# --- LeerID claim names (read by pupils.claims.ClaimNames.from_settings) ---------------------
# The enrollment claim is not public: ov_inschrijvingen until the integration file says otherwise.
LEERID_CLAIM_GIVEN_NAME = env.str("LEERID_CLAIM_GIVEN_NAME", default="given_name")
LEERID_CLAIM_FAMILY_NAME = env.str("LEERID_CLAIM_FAMILY_NAME", default="family_name")
LEERID_CLAIM_LEERID_UUID = env.str("LEERID_CLAIM_LEERID_UUID", default="ov_leerid_uuid")
LEERID_CLAIM_ACCOUNT_UUID = env.str("LEERID_CLAIM_ACCOUNT_UUID", default="ov_account_uuid")
LEERID_CLAIM_HISTORIEK = env.str("LEERID_CLAIM_HISTORIEK", default="ov_historiek_account_uuid")
LEERID_CLAIM_ENROLLMENTS = env.str("LEERID_CLAIM_ENROLLMENTS", default="ov_inschrijvingen")
# Claims LeerID may send besides the six above and OpenID's own without it counting as
# excessive data for the DPO's data-quality report (protocol art. 7). Names, comma-separated.
LEERID_ALLOWED_EXTRA_CLAIMS = frozenset(env.list("LEERID_ALLOWED_EXTRA_CLAIMS", default=[]))

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

# --- Static files (Production as shipped) -----------------------------------------------------
# WhiteNoise serves them from the app (no separate web server): `collectstatic` (run in the image
# build) writes hashed, compressed copies; a hashed name is cached for a year (immutable), so a
# new release is a new URL. With DEBUG the files come straight from the apps' static folders.
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security --------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# The __Host- prefix needs a secure cookie, so it is only used off DEBUG.
SESSION_COOKIE_NAME = "sessionid" if DEBUG else "__Host-sessionid"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# The language choice is no secret, but a cookie sent over http can be set by anyone on the
# path: the same flags as the session cookie (no script reads it).
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Take X-Request-ID from the request (32 lower-case hex digits only) because the proxy in front
# sets it, overwriting what clients send. Off: every request gets a new id.
REQUEST_ID_FROM_PROXY = env.bool("REQUEST_ID_FROM_PROXY", default=False)

# --- Logging ---------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# LOG_FORMAT: "plain" (a line of text) or "json" (one object a line); redaction applies to both.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = logging_config(log_format=LOG_FORMAT, log_level=LOG_LEVEL)
# Error reports (500 mails, the debug page) drop the OIDC callback's query string and blank
# frame locals such as `code`, `claims` or `token` (privacy/error_reports.py).
DEFAULT_EXCEPTION_REPORTER = "privacy.error_reports.ScrubbingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "privacy.error_reports.ScrubbingExceptionReporterFilter"

# --- Privacy log -----------------------------------------------------------------------------
# Entries older than this are pruned (a checkpoint keeps the rest verifiable). Default 3 years
# (1096 days, a leap day included): as long as the longest-lived data the log accounts for (an
# inactive pupil account), so every access to data we may still hold stays provable, and a
# breach found late can still be reconstructed. Entries hold pseudonyms only. See .env.example.
PRIVACY_LOG_RETENTION_DAYS = env.int("PRIVACY_LOG_RETENTION_DAYS", default=1096)
if PRIVACY_LOG_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("PRIVACY_LOG_RETENTION_DAYS must be at least 1.")
# Off (default): an entry written in its own transaction commits without waiting for the WAL
# flush, so concurrent writers do not queue behind each other's fsync; a database crash can
# lose the last fraction of a second of entries (a tail, never a gap). See docs/decisions.md.
PRIVACY_LOG_SYNCHRONOUS_COMMIT = env.bool("PRIVACY_LOG_SYNCHRONOUS_COMMIT", default=False)
# On (default on PostgreSQL with Redis, i.e. with a Celery worker and beat): privacy.log is one
# durable INSERT into a pending table, and the task privacy.seal_log chains pending entries every
# PRIVACY_LOG_SEAL_SECONDS; no writer waits for another. Off (SQLite, or no beat to run the
# sealer): each write chains its entry at once under the head lock. See docs/decisions.md.
PRIVACY_LOG_SEALER = env.bool("PRIVACY_LOG_SEALER", default=DB_IS_POSTGRES and bool(REDIS_URL))
PRIVACY_LOG_SEAL_SECONDS = env.float("PRIVACY_LOG_SEAL_SECONDS", default=2.0)
if PRIVACY_LOG_SEALER and not DB_IS_POSTGRES:
    raise ImproperlyConfigured("PRIVACY_LOG_SEALER needs PostgreSQL; SQLite chains each write.")
if PRIVACY_LOG_SEALER:
    CELERY_BEAT_SCHEDULE["privacy-log-seal"] = seal_entry(PRIVACY_LOG_SEAL_SECONDS)

# --- The DPO's workbench (dpo/) --------------------------------------------------------------
# Mail: EMAIL_URL through django-environ (smtp://user:password@host:587 with ?tls=True, or
# consolemail:// to print mails, as `make run` does). Mails go to DPO_EMAILS and to the active
# members of the DPO group that have an e-mail address.
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="i-learn-auth@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
DPO_EMAILS = env.list("DPO_EMAILS", default=[])
# How long a process may keep the protocol's end date in memory before reading it again; the
# protocol_end command waits this long before destroying, so no process still lets a pupil in.
PROTOCOL_END_CACHE_SECONDS = env.int("PROTOCOL_END_CACHE_SECONDS", default=10)

# --- Operations: metrics and the erasure ledger (Production as shipped) --------------------
# /metrics (Prometheus text format) answers only requests from these addresses or networks
# (comma-separated, e.g. 10.0.0.0/8); anyone else, and anything that came through the proxy
# (an X-Forwarded-For header), gets a 404. Default: nobody.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
# The erasure ledger (privacy/ledger.py, routed by privacy/routers.py): the pseudonyms of
# pupils erased on request, kept in a database of its own so that restoring a backup of the
# main one does not bring them back (`manage.py apply_erasures` replays it). Unset: a table in
# the main database (development only).
ERASURE_LEDGER_DATABASE_URL = env.str("ERASURE_LEDGER_DATABASE_URL", default="")
if ERASURE_LEDGER_DATABASE_URL:
    DATABASES["erasure_ledger"] = env.db_url_config(ERASURE_LEDGER_DATABASE_URL)
    if DATABASES["erasure_ledger"]["ENGINE"].endswith("postgresql"):
        DATABASES["erasure_ledger"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
DATABASE_ROUTERS = ["privacy.routers.ErasureLedgerRouter"]

# --- Pupil pages: privacy notice, "mijn gegevens", Content-Security-Policy -------------------
# Named on the privacy notice (/privacy/) as the address for the pupil's rights (GDPR art. 15-21).
DPO_CONTACT_EMAIL = env.str("DPO_CONTACT_EMAIL", default="")
