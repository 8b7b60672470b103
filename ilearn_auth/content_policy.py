"""The Content-Security-Policy header: django-csp's middleware, with LeerID in ``form-action``.

The policy itself is ``CONTENT_SECURITY_POLICY`` in the settings: everything from this origin
only, no inline script or style, no frames. The login form (GET /oidc/authenticate/) and the
logout form (POST /logout/) answer with a redirect to LeerID, and browsers apply ``form-action``
to a form's redirects too, so LeerID's origin is added here, read from ``LEERID_ISSUER`` at each
response (the settings may point elsewhere after start-up, as tests do).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def leerid_origin() -> str:
    parts = urlsplit(settings.LEERID_ISSUER or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        origin = leerid_origin()
        if origin and not report_only:
            parts.update = {**(parts.update or {}), "form-action": [origin]}
        return parts
