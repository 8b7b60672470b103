"""A flame graph of a login, from py-spy's collapsed stacks, coloured by part of the login.

    .venv/bin/python bench/flamegraph.py PROFILE.txt OUT.svg [--title TEXT] [--cpu-ms 14.2]

py-spy's own SVG (``bench/login.py --profile`` writes it too) draws each gunicorn worker apart
and spends forty rows on Django's middleware plumbing. This one merges the workers, drops the
frames every request shares up to Django's handler and the plumbing between middlewares
(``exception.py`` ``inner`` and ``deprecation.py`` ``__call__``), and colours each frame by the
part of ``bench/profile_table.py`` its stack belongs to, so the table and the picture agree.
Widths are shares of the sampled CPU; with ``--cpu-ms`` hovering shows milliseconds per login.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from html import escape
from pathlib import Path

from bench.profile_table import OTHER, PARTS, part_of, read_stacks

COLOURS = {
    "logging": "#b0b0b0",
    "privacy-log write": "#e377c2",
    "field encryption": "#9467bd",
    "token check": "#d62728",
    "outbound HTTP": "#ff7f0e",
    "sessions": "#2ca02c",
    "ORM": "#1f77b4",
    "template, redirect, URLs": "#bcbd22",
    "view and decision": "#17becf",
    "middleware": "#8c564b",
    "Django request/response": "#c49c94",
    "gunicorn, WSGI": "#7f7f7f",
    OTHER: "#dddddd",
}
PLUMBING = re.compile(
    r"^(inner \(.*django/core/handlers/exception\.py|__call__ \(.*django/utils/deprecation\.py)"
)
ROW, WIDTH, LEFT = 17, 1400, 10


def tidy(stack: str) -> list[str]:
    frames = stack.split(";")[1:]  # the first "frame" names the process
    start = next(
        (i for i, f in enumerate(frames) if f.startswith("__call__ (") and "wsgi.py" in f), None
    )
    if start is not None:
        frames = frames[start:]
    frames = [f for f in frames if not PLUMBING.match(f)]
    return [re.sub(r" \(.*?([^/]+/[^/]+\.py):\d+\)$", r" (\1)", f) for f in frames]


def build(stacks: Counter[str]) -> dict:
    root: dict = {"name": "all", "count": 0, "children": {}, "parts": Counter()}
    for stack, count in stacks.items():
        part = part_of(stack)
        node = root
        node["count"] += count
        node["parts"][part] += count
        for frame in tidy(stack):
            node = node["children"].setdefault(
                frame, {"name": frame, "count": 0, "children": {}, "parts": Counter()}
            )
            node["count"] += count
            node["parts"][part] += count
    return root


def render(root: dict, title: str, cpu_ms: float | None) -> str:
    total = root["count"] or 1
    scale = (WIDTH - 2 * LEFT) / total
    rects: list[str] = []
    depth_max = [0]

    def draw(node: dict, x: float, depth: int) -> None:
        width = node["count"] * scale
        if width < 0.4:
            return
        depth_max[0] = max(depth_max[0], depth)
        y = 40 + depth * ROW
        part, most = node["parts"].most_common(1)[0]
        # A frame whose samples are mostly one part takes its colour; shared frames stay pale.
        colour = COLOURS[part] if most >= 0.8 * node["count"] else "#f2f2f2"
        share = node["count"] / total
        amount = f"{share * cpu_ms:.2f} ms/login, " if cpu_ms else ""
        tip = escape(f"{node['name']}: {amount}{share:.1%} ({part})")
        label = escape(node["name"][: int(width / 7)]) if width > 30 else ""
        rects.append(
            f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y}" width="{width:.1f}" '
            f'height="{ROW - 1}" fill="{colour}" rx="2"/>'
            f'<text x="{x + 3:.1f}" y="{y + 12}">{label}</text></g>'
        )
        child_x = x
        for child in sorted(node["children"].values(), key=lambda c: -c["count"]):
            draw(child, child_x, depth + 1)
            child_x += child["count"] * scale

    draw(root, LEFT, 0)
    height = 40 + (depth_max[0] + 1) * ROW + 30
    legend_y = height - 18
    legend, x = [], LEFT
    for name, _ in [*PARTS, (OTHER, None)]:
        legend.append(
            f'<rect x="{x}" y="{legend_y - 10}" width="10" height="10" fill="{COLOURS[name]}"/>'
            f'<text x="{x + 14}" y="{legend_y}">{escape(name)}</text>'
        )
        x += 24 + 6.2 * len(name)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="monospace" font-size="11">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="{LEFT}" y="22" font-size="14">{escape(title)}</text>'
        + "".join(rects)
        + "".join(legend)
        + "</svg>"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--title", default="")
    parser.add_argument("--cpu-ms", type=float)
    args = parser.parse_args()
    title = args.title or args.profile.name
    args.out.write_text(render(build(read_stacks(args.profile)), title, args.cpu_ms))


if __name__ == "__main__":
    main()
