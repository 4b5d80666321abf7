"""What a person sees in a real page, measured in headless Chromium: font sizes, the font in use,
and the contrast of every text against the colour actually painted behind it (WCAG 2.x formulas)."""
from __future__ import annotations

from typing import Any

# Every visible element with its own text: its size, weight, font, colour and the colours painted
# behind it. Backgrounds are resolved by walking up the ancestors: a transparent layer lets the parent
# show through, a translucent one is blended over it, and a gradient counts as each of its colours (the
# worst one decides). Text inside anything with opacity < 1 is reported, since its colours are blends.
TEXTS_JS = r"""
(root) => {
  const parse = (c) => { const m = c && c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const stops = (img) => (img.match(/rgba?\([^)]+\)/g) || []).map(parse);
  const blend = (top, under) => { const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]); };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  function backs(el) {
    if (!el || el.nodeType !== 1) return [[255, 255, 255, 1]];
    const cs = getComputedStyle(el);
    const layers = [];
    const bg = parse(cs.backgroundColor);
    const grad = cs.backgroundImage && cs.backgroundImage.includes("gradient") ? stops(cs.backgroundImage) : [];
    if (grad.length) layers.push(...grad); else if (bg && bg[3] > 0) layers.push(bg);
    if (!layers.length) return backs(el.parentElement);
    const opaque = layers.every((l) => l[3] >= 1);
    if (opaque) return layers;
    const under = backs(el.parentElement);
    const out = [];
    for (const l of layers) for (const u of under) out.push(blend(l, u));
    return out.slice(0, 24);
  }
  const out = [];
  for (const el of (root || document.body).querySelectorAll("*")) {
    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim())
      .map((n) => n.textContent.trim()).join(" ");
    if (!own) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    if (r.bottom < 0 || r.right < 0 || r.top > innerHeight || r.left > innerWidth) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === "hidden") continue;
    let opacity = 1; for (let p = el; p; p = p.parentElement) opacity *= Number(getComputedStyle(p).opacity);
    const fg = parse(cs.color);
    const bgs = backs(el);
    const size = parseFloat(cs.fontSize), weight = Number(cs.fontWeight) || 400;
    const contrasts = bgs.map((b) => ratio(blend(fg, b), b));
    out.push({ text: own.slice(0, 60), tag: el.tagName.toLowerCase(), id: el.id, cls: String(el.className),
      size, weight, font: cs.fontFamily, color: cs.color, opacity,
      contrast: Math.min(...contrasts), large: size >= 24 || (size >= 18.66 && weight >= 700),
      box: { x: r.x, y: r.y, w: r.width, h: r.height },
      clipped: el.scrollWidth > el.clientWidth + 1 && cs.overflow !== "visible" });
  }
  return out;
}
"""


def texts(page: Any, root: str | None = None) -> list[dict[str, Any]]:
    """Every visible text of the page (or under the `root` selector), measured."""
    handle = page.query_selector(root) if root else None
    return page.evaluate(TEXTS_JS, handle)  # type: ignore[no-any-return]


def too_faint(items: list[dict[str, Any]]) -> list[str]:
    """Texts below WCAG AA: 4.5:1, or 3:1 for large type (24 px, or 18.66 px bold); or drawn translucent."""
    bad = []
    for t in items:
        need = 3.0 if t["large"] else 4.5
        if t["contrast"] < need or t["opacity"] < 1:
            bad.append(f"{t['text']!r} ({t['cls'] or t['tag']}) {t['contrast']:.2f}:1 < {need} "
                       f"[{t['color']}, {t['size']:.0f}px, opacity {t['opacity']:.2f}]")
    return bad


def font_loaded(page: Any, family: str = "Be Vietnam Pro") -> bool:
    """Whether the page has actually loaded `family` (a web font served by us), not a fallback."""
    return page.evaluate("""async (family) => { await document.fonts.ready;
      return [...document.fonts].some((f) => f.family.replace(/"/g, '') === family && f.status === 'loaded'); }""",
                         family)  # type: ignore[no-any-return]
