"""Charts as inline SVG, drawn on the server: no script, no CDN, readable with CSS off.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say in words
what it shows, so a screen reader (and a test) finds it by its id. Colours come from a fixed
palette that stays apart for the common kinds of colour blindness; red means "act now".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
# Okabe-Ito: distinguishable for colour-blind readers.
PALETTE = ["#0072B2", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#CC79A7", "#D55E00", "#999999"]
GREEN, RED, GREY = "#009E73", "#C0142B", "#999999"


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    values: list[int]


def _open(chart_id: str, title: str, desc: str, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg id="{chart_id}" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _close(parts: list[str]) -> SafeString:
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above went through escape()


def _nice_max(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "start", fill="#333"):
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(text)}</text>'
    )


def stacked_bars(
    chart_id: str,
    *,
    title: str,
    days: list[date],
    series: list[Series],
    empty: str,
    line: Series | None = None,
) -> SafeString:
    """One bar per day, the series stacked; a legend below. For counts per day.

    ``line``, when given, is drawn over the bars on its own scale (right axis): a level such as
    the number of accounts kept, next to the much smaller numbers removed each day."""
    totals = [sum(s.values[i] for s in series) for i in range(len(days))]
    desc = _("%(n)s dagen, van %(first)s tot %(last)s; totaal %(total)s.") % {
        "n": len(days),
        "first": days[0].isoformat() if days else "-",
        "last": days[-1].isoformat() if days else "-",
        "total": sum(totals),
    }
    legend = [*series, *([line] if line else [])]
    legend_rows = (len(legend) + 2) // 3
    height = HEIGHT + 18 * legend_rows
    if line:
        desc += " " + _("%(label)s op de laatste dag: %(value)s.") % {
            "label": line.label,
            "value": line.values[-1] if line.values else 0,
        }
    parts = _open(chart_id, title, desc + " " + ", ".join(s.label for s in legend), height)
    top = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts += _grid(top, plot_h)
    if not any(totals):
        parts.append(_text(WIDTH / 2, TOP + plot_h / 2, empty, size=13, anchor="middle"))
    step = plot_w / max(len(days), 1)
    for i, day in enumerate(days):
        parts += _stack(i, day, series, step=step, top=top, plot_h=plot_h)
        if i % 15 == 0:
            parts.append(_text(LEFT + i * step, HEIGHT - 10, f"{day:%d/%m}", size=10))
    if days:
        parts.append(_text(WIDTH - RIGHT, HEIGHT - 10, f"{days[-1]:%d/%m}", size=10, anchor="end"))
    if line and any(line.values):
        parts.append(_line(line, step=step, plot_h=plot_h))
    for n, s in enumerate(legend):
        x = LEFT + (n % 3) * (plot_w / 3)
        y = HEIGHT + 4 + 18 * (n // 3)
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="10" height="10" fill="{s.colour}"/>')
        parts.append(_text(x + 14, y + 9, s.label[:40]))
    return _close(parts)


def _grid(top: int, plot_h: float) -> list[str]:
    parts = []
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        label = f"{int(top * fraction):,}".replace(",", ".")
        parts.append(_text(LEFT - 4, y + 4, label, anchor="end"))
    return parts


def _stack(i: int, day: date, series: list[Series], *, step: float, top: int, plot_h: float):
    parts, y = [], TOP + plot_h
    for s in series:
        value = s.values[i]
        if not value:
            continue
        h = plot_h * value / top
        y -= h
        parts.append(
            f'<rect x="{LEFT + i * step:.1f}" y="{y:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{h:.1f}" fill="{s.colour}">'
            f"<title>{escape(f'{day}: {s.label} {value}')}</title></rect>"
        )
    return parts


def _line(line: Series, *, step: float, plot_h: float) -> str:
    top = _nice_max(max(line.values))
    points = " ".join(
        f"{LEFT + i * step + step / 2:.1f},{TOP + plot_h * (1 - value / top):.1f}"
        for i, value in enumerate(line.values)
    )
    label = f"{top:,}".replace(",", ".")
    return (
        f'<polyline points="{points}" fill="none" stroke="{line.colour}" stroke-width="2.5"/>'
        + _text(
            WIDTH - RIGHT,
            TOP + 10,
            f"{escape(line.label)} (max {label})",
            anchor="end",
            fill=line.colour,
        )
    )


@dataclass(frozen=True)
class Deadline:
    label: str
    start: datetime
    deadline: datetime
    done: bool


def deadlines(
    chart_id: str, *, title: str, items: list[Deadline], now: datetime, empty: str
) -> SafeString:
    """One row per open breach: the 72 hours as a bar, the time left (or over) in words."""
    rows = max(len(items), 1)
    height = TOP + 30 * rows + 10
    over = sum(1 for item in items if not item.done and now > item.deadline)
    desc = _("%(n)s open, waarvan %(over)s over de termijn.") % {"n": len(items), "over": over}
    parts = _open(chart_id, title, desc, height)
    if not items:
        parts.append(_text(WIDTH / 2, TOP + 16, empty, size=13, anchor="middle", fill=GREEN))
    plot_w = WIDTH - 300
    for n, item in enumerate(items):
        y = TOP + 30 * n
        total = (item.deadline - item.start).total_seconds()
        used = min(max((now - item.start).total_seconds() / total, 0), 1)
        late = not item.done and now > item.deadline
        colour = GREEN if item.done else RED if late else "#E69F00"
        parts.append(_text(0, y + 15, item.label[:24]))
        parts.append(f'<rect x="160" y="{y + 4}" width="{plot_w}" height="16" fill="#eee"/>')
        parts.append(
            f'<rect x="160" y="{y + 4}" width="{plot_w * used:.1f}" height="16" fill="{colour}"/>'
        )
        if item.done:
            words = _("gemeld")
        elif late:
            words = _("%(hours)s u te laat") % {
                "hours": int((now - item.deadline).total_seconds() // 3600)
            }
        else:
            left = item.deadline - now
            words = _("nog %(hours)s u %(minutes)s min") % {
                "hours": int(left.total_seconds() // 3600),
                "minutes": int(left.total_seconds() % 3600 // 60),
            }
        parts.append(_text(170 + plot_w, y + 16, words, fill=RED if late else "#333", size=12))
    return _close(parts)


def timeline(
    chart_id: str,
    *,
    title: str,
    items: list[tuple[str, date, bool]],
    today: date,
    days: int,
    empty: str,
) -> SafeString:
    """Agreements ending within ``days``: one row each, a marker at its end date; grey when a
    follow-up agreement takes over, red when the school's pupils lose access."""
    rows = max(len(items), 1)
    height = TOP + 24 * rows + 30
    desc = _("%(n)s overeenkomsten lopen af binnen %(days)s dagen.") % {
        "n": len(items),
        "days": days,
    }
    parts = _open(chart_id, title, desc, height)
    plot_x, plot_w = 220, WIDTH - 220 - RIGHT
    axis_y = height - 20
    parts.append(
        f'<line x1="{plot_x}" x2="{plot_x + plot_w}" y1="{axis_y}" y2="{axis_y}" stroke="#999"/>'
    )
    for tick in range(0, days + 1, 5):
        x = plot_x + plot_w * tick / days
        parts.append(
            _text(x, axis_y + 14, f"{today + timedelta(days=tick):%d/%m}", size=10, anchor="middle")
        )
    if not items:
        parts.append(_text(WIDTH / 2, TOP + 14, empty, size=13, anchor="middle", fill=GREEN))
    for n, (label, ends_on, covered) in enumerate(items):
        y = TOP + 24 * n + 12
        x = plot_x + plot_w * min(max((ends_on - today).days, 0), days) / days
        colour = GREY if covered else RED
        parts.append(_text(0, y + 4, label[:34]))
        parts.append(
            f'<line x1="{plot_x}" x2="{x:.1f}" y1="{y}" y2="{y}" '
            f'stroke="{colour}" stroke-width="6"/>'
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y}" r="6" fill="{colour}">'
            f"<title>{escape(f'{label}: {ends_on}')}</title></circle>"
        )
    return _close(parts)


def status(chart_id: str, *, title: str, ok: bool | None, lines: list[str]) -> SafeString:
    """A status panel: green when in order, red when broken, grey when never checked."""
    colour = GREY if ok is None else GREEN if ok else RED
    word = _("nog niet gecontroleerd") if ok is None else _("in orde") if ok else _("NIET IN ORDE")
    height = 40 + 18 * len(lines)
    parts = _open(chart_id, title, f"{word}. " + " ".join(lines), height)
    parts.append(
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" rx="6" '
        f'fill="{colour}" opacity="0.12"/>'
    )
    parts.append(f'<circle cx="20" cy="20" r="10" fill="{colour}"/>')
    parts.append(_text(40, 25, word, size=16, fill=colour if ok is not True else "#075e45"))
    for n, line in enumerate(lines):
        parts.append(_text(40, 48 + 18 * n, line, size=12))
    return _close(parts)
