"""Where a login's CPU goes: py-spy's collapsed stacks sorted into the parts of a login.

    .venv/bin/python bench/profile_table.py PROFILE.txt [--cpu-ms 14.2]

``PROFILE.txt`` is ``py-spy record --format raw`` output (one line per distinct stack, frames
root first, then the sample count); ``bench/login.py --profile`` writes it. Each stack goes to
the first part below that one of its frames belongs to, so a statement run by the privacy-log
write counts as the privacy log, not as ORM, and a Redis call made for the session counts as
sessions. With ``--cpu-ms`` (the app's measured CPU per login) the shares become milliseconds.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# (part, frame pattern): first match wins, most specific first. A frame reads
# "function (path/to/file.py:line)".
PARTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("logging", r"/logging/|privacy/logging\.py"),
        ("privacy-log write", r"privacy/services\.py|privacy/chain\.py|privacy/__init__\.py"),
        ("field encryption", r"pupils/fields\.py|fernet\.py"),
        (
            "token check",
            r"ilearn_auth/id_token\.py|/jwt/|josepy|"
            r"^(verify_token|_verify_jws|retrieve_matching_jwk|get_payload_data) \(",
        ),
        (
            "outbound HTTP",
            r"/requests/|/urllib3/|http/client\.py|ilearn_auth/op_calls\.py|"
            r"ilearn_auth/op_client\.py|ilearn_auth/oidc_config\.py|^(get_token|get_userinfo) \(",
        ),
        ("sessions", r"contrib/sessions/|session_cache\.py|/redis/|core/cache/"),
        ("ORM", r"django/db/|/psycopg/|/psycopg_binary/"),
        (
            "template, redirect, URLs",
            r"django/template/|django/shortcuts\.py|django/urls/|django/http/response\.py",
        ),
        (
            "view and decision",
            r"ilearn_auth/login_views\.py|ilearn_auth/login_backend\.py|pupils/|schools/|"
            r"mozilla_django_oidc/|contrib/auth/__init__\.py|ilearn_auth/failures\.py",
        ),
        ("middleware", r"middleware"),
        ("Django request/response", r"django/"),
        ("gunicorn, WSGI", r"gunicorn"),
    )
)
OTHER = "other (imports, GC, interpreter)"


def read_stacks(path: Path) -> Counter[str]:
    stacks: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def part_of(stack: str) -> str:
    frames = stack.split(";")
    for name, pattern in PARTS:
        if any(pattern.search(frame) for frame in frames):
            return name
    return OTHER


def table(stacks: Counter[str]) -> dict[str, int]:
    parts: Counter[str] = Counter()
    for stack, count in stacks.items():
        parts[part_of(stack)] += count
    order = [name for name, _ in PARTS] + [OTHER]
    return {name: parts[name] for name in order if parts[name]}


def render(parts: dict[str, int], cpu_ms: float | None = None) -> str:
    total = sum(parts.values()) or 1
    lines = ["| part | samples | share | ms/login |", "|---|---:|---:|---:|"]
    for name, count in parts.items():
        ms = f"{count / total * cpu_ms:.2f}" if cpu_ms else "-"
        lines.append(f"| {name} | {count} | {count / total:.1%} | {ms} |")
    lines.append(f"| total | {total} | 100% | {cpu_ms:.2f} |" if cpu_ms else f"| total | {total} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--cpu-ms", type=float, help="the app's CPU per login, to get ms")
    args = parser.parse_args()
    print(render(table(read_stacks(args.profile)), args.cpu_ms))


if __name__ == "__main__":
    main()
