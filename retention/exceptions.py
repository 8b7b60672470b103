from __future__ import annotations


class RetentionError(Exception):
    """A rule cannot run as configured (a missing dependency, a model the purge cannot follow)."""
