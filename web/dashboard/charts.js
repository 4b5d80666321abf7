// Charts as inline SVG built with DOM calls (no library, no CDN, nothing but attributes: strict CSP).
const NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function niceMax(v) {
  if (!v || v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// Grouped vertical bars: categories on x, one bar per series; legend on top.
export function barChart({ labels, series, width = 560, height = 220, unit = "", title = "", maxLabels = 16 }) {
  const pad = { l: 42, r: 10, t: 26, b: 30 };
  const w = width - pad.l - pad.r, h = height - pad.t - pad.b;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.map((v) => v || 0))));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + h - (h * i) / 4;
    root.append(svg("line", { x1: pad.l, x2: pad.l + w, y1: y, y2: y, class: "grid" }),
      svg("text", { x: pad.l - 6, y: y + 4, class: "axis", "text-anchor": "end" }, fmt(max * i / 4) + unit));
  }
  const n = Math.max(1, labels.length), group = w / n, bw = Math.min(56, Math.max(2, (group * 0.75) / series.length));
  labels.forEach((label, i) => {
    series.forEach((s, j) => {
      const v = s.values[i] || 0, bh = (h * v) / max;
      const x = pad.l + i * group + (group - bw * series.length) / 2 + j * bw;
      root.append(svg("rect", { x, y: pad.t + h - bh, width: bw - 1, height: Math.max(0, bh), class: `bar s${j}` },
        svg("title", {}, `${label}: ${fmt(v)}${unit} (${s.name})`)));
    });
    if (n <= maxLabels || i % Math.ceil(n / maxLabels) === 0) {
      root.append(svg("text", { x: pad.l + i * group + group / 2, y: height - 10, class: "axis", "text-anchor": "middle" }, label));
    }
  });
  let lx = pad.l;
  series.forEach((s, j) => {
    root.append(svg("rect", { x: lx, y: 6, width: 12, height: 12, class: `bar s${j} key` }),
      svg("text", { x: lx + 16, y: 16, class: "legend" }, s.name));
    lx += 24 + s.name.length * 7.5;
  });
  return root;
}

// A single horizontal bar split into parts (e.g. ratings), with a legend of counts.
export function stackChart({ parts, width = 560, height = 86, title = "" }) {
  const total = parts.reduce((a, p) => a + (p.value || 0), 0);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  let x = 0;
  if (!total) root.append(svg("rect", { x: 0, y: 8, width, height: 30, class: "empty" }));
  parts.forEach((p, i) => {
    const w = total ? (width * (p.value || 0)) / total : 0;
    if (w > 0) root.append(svg("rect", { x, y: 8, width: w, height: 30, class: `part p${p.tone ?? i}` },
      svg("title", {}, `${p.name}: ${p.value}`)));
    x += w;
  });
  let lx = 0;
  parts.forEach((p, i) => {
    root.append(svg("rect", { x: lx, y: 56, width: 12, height: 12, class: `part p${p.tone ?? i}` }),
      svg("text", { x: lx + 16, y: 66, class: "legend" }, `${p.name} ${p.value}`));
    lx += 40 + (p.name.length + String(p.value).length) * 7.2;
  });
  return root;
}

export function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (Math.abs(v) >= 1000) return (Math.round(v / 100) / 10) + "k";
  if (v !== 0 && Math.abs(v) < 1) return String(Math.round(v * 100) / 100);
  return String(Math.round(v * 10) / 10);
}
