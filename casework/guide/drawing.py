"""A workflow drawn as SVG from its definition: states in layers by distance from the start, top to bottom,
so the drawing is tall and narrow and fits a phone. No JavaScript, no external tool; styles in casework.css."""
from __future__ import annotations

from collections import deque

from markupsafe import Markup, escape

import workflows

from ..labels import STATE_LABELS, trigger_label

FONT = 14           # px, the labels' size; the drawing scales with the page width
NODE_H = 32
ROW_GAP = 34
COL_GAP = 14
MARGIN = 12
LOOP_STEP = 14      # how far each edge going back up bulges out on the right


def text_width(text: str) -> float:
    """Width of `text` at FONT: CJK glyphs are square, Latin ones about half."""
    return sum(FONT if ord(ch) > 0x2E80 else FONT * 0.6 for ch in text)


def layers(wf) -> dict[str, int]:
    """Each state's layer: its fewest steps from the initial state; states never reached go last."""
    layer = {wf.initial: 0}
    queue = deque([wf.initial])
    while queue:
        state = queue.popleft()
        for t in wf.transitions:
            if state in t.source and t.dest not in layer:
                layer[t.dest] = layer[state] + 1
                queue.append(t.dest)
    last = max(layer.values(), default=0) + 1
    return {s: layer.get(s, last) for s in wf.state_names}


def edges(wf) -> dict[tuple[str, str], list[str]]:
    """(from, to) -> the triggers leading there, self-loops left out (a step that keeps the state)."""
    out: dict[tuple[str, str], list[str]] = {}
    for t in wf.transitions:
        for s in t.source:
            if s != t.dest and t.trigger not in out.setdefault((s, t.dest), []):
                out[(s, t.dest)].append(t.trigger)
    return out


def workflow_svg(kind: str, current: str | None = None) -> Markup:
    wf = workflows.get(kind)
    layer = layers(wf)
    rows: dict[int, list[str]] = {}
    for s in wf.state_names:  # table order within a layer: the workflows list the main path first
        rows.setdefault(layer[s], []).append(s)
    label = {s: str(STATE_LABELS.get(s, s)) for s in wf.state_names}
    width_of = {s: max(text_width(label[s]) + 20, 60) for s in wf.state_names}
    row_w = {r: sum(width_of[s] for s in ss) + COL_GAP * (len(ss) - 1) for r, ss in rows.items()}
    links = edges(wf)
    back = [(a, b) for (a, b) in links if layer[b] <= layer[a]]
    inner = max(row_w.values())
    width = inner + 2 * MARGIN + LOOP_STEP * (len(back) + 1)
    box: dict[str, tuple[float, float, float]] = {}  # state -> x, y, w
    for r, ss in sorted(rows.items()):
        x = MARGIN + (inner - row_w[r]) / 2
        y = MARGIN + r * (NODE_H + ROW_GAP)
        for s in ss:
            box[s] = (x, y, width_of[s])
            x += width_of[s] + COL_GAP
    height = MARGIN * 2 + (max(rows) + 1) * (NODE_H + ROW_GAP) - ROW_GAP
    marker = f"wf-arrow-{kind}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="wf-drawing" role="img" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
             f'aria-labelledby="wf-title-{kind}">',
             f'<title id="wf-title-{kind}">{escape(_title(kind, current, label))}</title>',
             f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="wf-arrowhead"/></marker></defs>']
    right = MARGIN + inner
    for i, ((a, b), triggers) in enumerate(links.items()):
        ax, ay, aw = box[a]
        bx, by, bw = box[b]
        if (a, b) in back:
            bulge = right + LOOP_STEP * (back.index((a, b)) + 1)
            d = (f"M{ax + aw:.0f},{ay + NODE_H / 2:.0f} C{bulge:.0f},{ay + NODE_H / 2:.0f} "
                 f"{bulge:.0f},{by + NODE_H / 2:.0f} {bx + bw:.0f},{by + NODE_H / 2:.0f}")
            cls = "wf-edge wf-back"
        else:
            d = (f"M{ax + aw / 2:.0f},{ay + NODE_H:.0f} C{ax + aw / 2:.0f},{ay + NODE_H + ROW_GAP / 2:.0f} "
                 f"{bx + bw / 2:.0f},{by - ROW_GAP / 2:.0f} {bx + bw / 2:.0f},{by:.0f}")
            cls = "wf-edge"
        names = "、".join(trigger_label(t) for t in triggers)
        parts.append(f'<path class="{cls}" d="{d}" marker-end="url(#{marker})" fill="none">'
                     f'<title>{escape(label[a])} → {escape(label[b])}：{escape(names)}</title></path>')
    for s in wf.state_names:
        x, y, w = box[s]
        cls = ["wf-node"]
        if s in wf.final:
            cls.append("wf-final")
        if s == current:
            cls.append("wf-current")
        parts.append(f'<g class="{" ".join(cls)}" data-state="{s}">'
                     f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{NODE_H}" rx="6"/>'
                     f'<text x="{x + w / 2:.0f}" y="{y + NODE_H / 2:.0f}" text-anchor="middle" '
                     f'dominant-baseline="central" font-size="{FONT}">{escape(label[s])}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _title(kind: str, current: str | None, label: dict[str, str]) -> str:
    from flask_babel import gettext as _
    from ..labels import KIND_LABELS
    title = _("Workflow: %(kind)s", kind=KIND_LABELS[kind])
    if current in label:
        title += _("; this case is at: %(state)s", state=label[current])
    return title
