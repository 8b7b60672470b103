"""Django error reports (500 e-mails, the debug page) without the OIDC callback's secrets.

Django's safe filter hides settings and cookies but prints the query string, the GET items and
frame locals as they are; at ``/oidc/callback/?code=...&state=...`` those are credentials, and a
claims dict in a local holds names. Here every query string is dropped on OIDC paths and
redacted elsewhere, and frame locals with telling names are blanked.
"""

from __future__ import annotations

from django.http import HttpRequest, QueryDict
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from privacy.logging import SENSITIVE_PARAM_NAMES, redact

_OIDC_PATH_MARKER = "/oidc/"
_SENSITIVE_LOCALS = frozenset(
    {
        "code",
        "state",
        "nonce",
        "token",
        "id_token",
        "access_token",
        "refresh_token",
        "token_info",
        "token_response",
        "claims",
        "raw_claims",
        "userinfo",
        "user_info",
        "payload",
        "code_verifier",
        "given_name",
        "family_name",
        "snapshot",
    }
)
_QUERY_META = ("QUERY_STRING", "REQUEST_URI", "RAW_URI", "HTTP_REFERER")


def _scrub_query(request, value: str) -> str:
    if _OIDC_PATH_MARKER in getattr(request, "path", ""):
        return value.split("?", 1)[0] + ("?[redacted]" if "?" in value else "")
    return redact(value)


class ScrubbingExceptionReporterFilter(SafeExceptionReporterFilter):
    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        for key in _QUERY_META:
            if isinstance(meta.get(key), str):
                meta[key] = (
                    self.cleansed_substitute
                    if key == "QUERY_STRING" and _OIDC_PATH_MARKER in request.path
                    else _scrub_query(request, meta[key])
                )
        return meta

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self._cleanse_local(name, value)) for name, value in variables]

    def _cleanse_local(self, name: str, value):
        if name in _SENSITIVE_LOCALS:
            return self.cleansed_substitute
        if isinstance(value, HttpRequest):
            # Its repr carries the full path, query string included.
            return f"<{type(value).__name__}: {value.method} {value.path!r}>"
        return value


class ScrubbingExceptionReporter(ExceptionReporter):
    def get_traceback_data(self):
        data = super().get_traceback_data()
        for frame in data.get("frames", []):
            if "vars" in frame:
                frame["vars"] = [(name, redact(value)) for name, value in frame["vars"]]
        if self.request is not None:
            data["request_insecure_uri"] = _scrub_query(
                self.request, data.get("request_insecure_uri", "")
            )
            oidc = _OIDC_PATH_MARKER in self.request.path
            scrubbed = QueryDict(mutable=True)
            for key, value in self.request.GET.items():
                hide = oidc or key.lower() in SENSITIVE_PARAM_NAMES
                scrubbed[key] = self.filter.cleansed_substitute if hide else redact(value)
            data["request_GET_items"] = scrubbed.items()
        return data
