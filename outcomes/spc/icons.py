"""The Making Data Count variation and assurance icons, drawn (never downloaded) with matplotlib
for charts and as inline SVG for HTML pages, from one description of each icon.

Variation: grey for common cause; blue for improvement, orange for concern, purple for a neutral
special cause, with H or L for a high or low latest point. Assurance: blue P (the target is
consistently met), orange F (consistently missed), grey ? (hit and miss). Colours are
NHSRplotthedots' (`ptd_spc_colours`), which follow the NHS England Making Data Count team's.

>>> icon_svg("variation", "improvement_low")[:4]
'<svg'
"""

from __future__ import annotations

from html import escape

__all__ = ["COLOURS", "VARIATION", "ASSURANCE", "icon_spec", "icon_svg", "draw_icon"]

COLOURS = {
    "common_cause": "#a6a6a6",
    "improvement": "#00b0f0",
    "concern": "#e46c0a",
    "neutral": "#490092",
    "target": "#de1b1b",
    "mean": "#000000",
    "limit": "#a6a6a6",
    "line": "#a6a6a6",
}

#: variation icon -> (colour, letter, words)
VARIATION = {
    "common_cause": (COLOURS["common_cause"], "", "common cause variation"),
    "improvement_high": (COLOURS["improvement"], "H", "special cause improvement (high)"),
    "improvement_low": (COLOURS["improvement"], "L", "special cause improvement (low)"),
    "concern_high": (COLOURS["concern"], "H", "special cause concern (high)"),
    "concern_low": (COLOURS["concern"], "L", "special cause concern (low)"),
    "neutral_high": (COLOURS["neutral"], "H", "special cause, neither better nor worse (high)"),
    "neutral_low": (COLOURS["neutral"], "L", "special cause, neither better nor worse (low)"),
}
#: assurance icon -> (colour, letter, words)
ASSURANCE = {
    "consistent_pass": (COLOURS["improvement"], "P", "target consistently met"),
    "consistent_fail": (COLOURS["concern"], "F", "target consistently missed"),
    "inconsistent": (COLOURS["common_cause"], "?", "target met and missed at random (hit and miss)"),
}

#: the little run of dots inside a variation icon, in a unit box (x, y from 0 to 1)
_DOTS_FLAT = [(0.22, 0.5), (0.36, 0.56), (0.5, 0.46), (0.64, 0.54), (0.78, 0.5)]
_DOTS_HIGH = [(0.22, 0.42), (0.36, 0.46), (0.5, 0.42), (0.64, 0.62), (0.78, 0.7)]
_DOTS_LOW = [(0.22, 0.58), (0.36, 0.54), (0.5, 0.58), (0.64, 0.38), (0.78, 0.3)]


def icon_spec(kind: str, key: str) -> tuple[str, str, str]:
    """(colour, letter, words) of a "variation" or "assurance" icon; KeyError for an unknown one."""
    table = {"variation": VARIATION, "assurance": ASSURANCE}[kind]
    if key not in table:
        raise KeyError(f"no {kind} icon {key!r}; known: {', '.join(table)}")
    return table[key]


def _dots(kind: str, key: str):
    if kind != "variation" or key == "common_cause":
        return _DOTS_FLAT
    return _DOTS_HIGH if key.endswith("high") else _DOTS_LOW


def icon_svg(kind: str, key: str | None, size: int = 30) -> str:
    """The icon as an inline SVG element with a title (its words); '' when there is none."""
    if not key:
        return ""
    colour, letter, words = icon_spec(kind, key)
    parts = [f'<svg width="{size}" height="{size}" viewBox="0 0 100 100" '
             f'role="img" aria-label="{escape(words)}" class="spc-icon"><title>{escape(words)}</title>',
             f'<circle cx="50" cy="50" r="44" fill="#fff" stroke="{colour}" stroke-width="9"/>']
    if kind == "variation":
        points = _dots(kind, key)
        parts.append('<polyline fill="none" stroke="#a6a6a6" stroke-width="3" points="'
                     + " ".join(f"{x * 100:.0f},{(1 - y) * 100:.0f}" for x, y in points) + '"/>')
        for k, (x, y) in enumerate(points):
            fill = colour if (key != "common_cause" and k >= 3) else "#a6a6a6"
            parts.append(f'<circle cx="{x * 100:.0f}" cy="{(1 - y) * 100:.0f}" r="6" fill="{fill}"/>')
        if letter:
            y = 32 if letter == "H" else 84
            parts.append(f'<text x="50" y="{y}" text-anchor="middle" font-family="Arial, sans-serif" font-size="24" '
                         f'font-weight="bold" fill="{colour}">{letter}</text>')
    else:
        parts.append(f'<line x1="18" y1="74" x2="82" y2="74" stroke="{COLOURS["target"]}" stroke-width="4" stroke-dasharray="8 5"/>')
        parts.append(f'<text x="50" y="60" text-anchor="middle" font-family="Arial, sans-serif" font-size="42" '
                     f'font-weight="bold" fill="{colour}">{escape(letter)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def draw_icon(ax, kind: str, key: str | None) -> None:
    """Draw the icon into `ax` (an Axes of its own, e.g. an inset), which is then left without axes."""
    from matplotlib.patches import Circle

    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.axis("off")
    if not key:
        return
    colour, letter, words = icon_spec(kind, key)
    ax.add_patch(Circle((0.5, 0.5), 0.44, facecolor="white", edgecolor=colour, linewidth=3, clip_on=False))
    if kind == "variation":
        points = _dots(kind, key)
        ax.plot([x for x, _ in points], [y for _, y in points], "-", color="#a6a6a6", linewidth=1, clip_on=False)
        for k, (x, y) in enumerate(points):
            fill = colour if (key != "common_cause" and k >= 3) else "#a6a6a6"
            ax.plot(x, y, "o", color=fill, markersize=3.5, clip_on=False)
        if letter:
            ax.text(0.5, 0.76 if letter == "H" else 0.2, letter, ha="center", va="center", fontsize=8,
                    fontweight="bold", color=colour)
    else:
        ax.plot([0.18, 0.82], [0.26, 0.26], "--", color=COLOURS["target"], linewidth=1.2, clip_on=False)
        ax.text(0.5, 0.55, letter, ha="center", va="center", fontsize=12, fontweight="bold", color=colour)
    ax.set_title("")
    ax.set_label(f"{kind} icon: {words}")
