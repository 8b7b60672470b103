"""What the project is made of, the same in every environment: the apps, the middleware in
order, the templates, the password validators and authentication backends, and the
Content-Security-Policy. settings.py imports these; no variable changes them.
"""

from __future__ import annotations

from pathlib import Path

# As in settings.py: the checkout's root.
BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS = [
    # The admin site is staff.admin_site.StaffAdminSite: password, second factor, lockout.
    "staff.admin_config.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mozilla_django_oidc",
    "ilearn_auth",
    "privacy",
    "schools",
    "pupils",
    "retention",
    "dpo",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Last: roles_sync runs after the last app's permissions exist (ilearn_auth/roles.py).
    "staff",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app itself (Production as shipped): right after SecurityMiddleware,
    # before anything that touches the session or the database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ilearn_auth.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second factor (django-otp)?
    "django_otp.middleware.OTPMiddleware",
    # Staff sessions: idle and absolute time-outs, and who is acting (staff/middleware.py).
    "staff.middleware.StaffSessionMiddleware",
    # A pupil's session ends when its school's agreement or its user is switched off.
    "ilearn_auth.access_recheck.PupilAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A 403 in one log line (not a traceback), and authz_fail for staff refused personal data.
    "ilearn_auth.authz.PermissionDeniedMiddleware",
    # Content-Security-Policy header (django-csp, plus LeerID's origin in form-action).
    "ilearn_auth.content_policy.ContentSecurityPolicyMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # First, so its admin/base_site.html (favicon, admin.css) wraps the admin's own.
        "DIRS": [BASE_DIR / "ilearn_auth" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Pupils come in through LeerID only; staff sign in to the admin with a password.
AUTHENTICATION_BACKENDS = [
    "ilearn_auth.login_backend.LeerIDBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Every page loads only from this origin: no CDN, no inline script or style, no frames. Forms
# may also end at LeerID (ilearn_auth/content_policy.py adds its origin to form-action).
# data: images are allowed for the admin's second factor (a QR code).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# Permissions that let a holder see pupils' personal data: a group holding one of them is a
# personal-data group (need-to-know: only after a confidentiality undertaking is recorded).
STAFF_PERSONAL_DATA_PERMISSIONS = [
    "pupils.view_identitysnapshot",
    "pupils.export_pupil",
    "privacy.view_privacylogentry",
]
# django-otp: the name authenticator apps show; our lockout is the one throttle (a clear
# message and a time to try again), so django-otp's silent per-device delay is off.
OTP_TOTP_ISSUER = "i-Learn Auth"
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# Each entry is a callable returning a ``health.Check``; apps append their own.
READINESS_CHECKS = [
    "ilearn_auth.health.check_database",
    "ilearn_auth.health.check_redis",
    "retention.health.check_retention",
    "ilearn_auth.health.check_leerid",
]
