// Small SVG charts drawn by hand (no libraries, no build step): stacked bars and lines over a
// per-day series. Each chart fills its container and redraws when the window is resized.

const NS = "http://www.w3.org/2000/svg";
const PAD = { top: 10, right: 12, bottom: 24, left: 44 };

/**
 * @param {string} name
 * @param {Record<string, string | number>} attrs
 * @param {string} [text]
 */
function el(name, attrs, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Axis scale: a round step (1, 2 or 5 times a power of ten) and the top, 3 to 5 ticks. */
function niceScale(value, integer) {
  if (!(value > 0)) return { max: 1, step: integer ? 1 : 0.25 };
  const rough = value / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  if (integer) step = Math.max(1, Math.round(step));
  return { max: Math.ceil(value / step) * step, step };
}

/** Day labels: "Nov 3", thinned out so they never overlap. */
function dayLabel(day) {
  const d = new Date(`${day}T00:00:00Z`);
  return d.toLocaleDateString("en", { month: "short", day: "numeric", timeZone: "UTC" });
}

/**
 * Frame shared by both chart types: svg, scales, grid lines, y ticks and x labels.
 * @param {HTMLElement} container
 * @param {string[]} days
 * @param {{max: number, step: number}} scale
 * @param {(v: number) => string} format
 */
function frame(container, days, scale, format) {
  const { max, step } = scale;
  container.replaceChildren();
  const width = Math.max(container.clientWidth, 240);
  const height = Math.max(container.clientHeight, 140);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  const inner = { w: width - PAD.left - PAD.right, h: height - PAD.top - PAD.bottom };
  const y = (v) => PAD.top + inner.h - (v / max) * inner.h;
  const band = inner.w / Math.max(days.length, 1);
  const x = (i) => PAD.left + band * i + band / 2;
  for (let t = 0; t * step <= max + 1e-9; t++) {
    const v = t * step;
    svg.append(
      el("line", { class: "grid-line", x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v) }),
    );
    svg.append(
      el("text", { class: "axis", x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)),
    );
  }
  const every = Math.ceil(days.length / Math.max(1, Math.floor(inner.w / 64)));
  days.forEach((day, i) => {
    if ((days.length - 1 - i) % every !== 0) return; // always label the last day (today)
    svg.append(
      el("text", { class: "axis", x: x(i), y: height - 6, "text-anchor": "middle" }, dayLabel(day)),
    );
  });
  container.append(svg);
  return { svg, x, y, band, inner, width, height };
}

function emptyNote(f, message) {
  f.svg.append(el("text", {
    class: "empty",
    x: PAD.left + f.inner.w / 2,
    y: PAD.top + f.inner.h / 2,
    "text-anchor": "middle",
  }, message));
}

/**
 * Stacked bars, one per day.
 * @param {HTMLElement} container
 * @param {{day: string}[]} series
 * @param {{key: string, color: string, label: string}[]} stacks
 */
export function barChart(container, series, stacks) {
  const totals = series.map((d) => stacks.reduce((sum, s) => sum + (Number(d[s.key]) || 0), 0));
  const scale = niceScale(Math.max(0, ...totals), true);
  const f = frame(container, series.map((d) => d.day), scale, (v) => String(Math.round(v)));
  const barWidth = Math.max(2, Math.min(28, f.band * 0.7));
  series.forEach((d, i) => {
    let base = 0;
    for (const s of stacks) {
      const value = Number(d[s.key]) || 0;
      if (value <= 0) continue;
      const top = f.y(base + value);
      const rect = el("rect", {
        class: `bar bar-${s.key}`,
        x: f.x(i) - barWidth / 2,
        y: top,
        width: barWidth,
        height: Math.max(1, f.y(base) - top),
        rx: 2,
        fill: s.color,
        "data-day": d.day,
        "data-value": value,
      });
      rect.append(el("title", {}, `${dayLabel(d.day)}: ${value} ${s.label}`));
      f.svg.append(rect);
      base += value;
    }
  });
  if (totals.every((t) => t === 0)) emptyNote(f, "No searches in this period yet");
}

/**
 * Lines, one point per day; days without a value break the line.
 * @param {HTMLElement} container
 * @param {{day: string}[]} series
 * @param {{key: string, color: string, label: string}[]} lines
 * @param {{max?: number, format: (v: number) => string}} opts
 */
export function lineChart(container, series, lines, opts) {
  const values = series.flatMap((d) => lines.map((l) => d[l.key])).filter((v) =>
    v !== null && v !== undefined
  );
  const scale = opts.max
    ? { max: opts.max, step: opts.max / 4 }
    : niceScale(Math.max(0, ...values.map(Number)), false);
  const f = frame(container, series.map((d) => d.day), scale, opts.format);
  for (const line of lines) {
    let path = "";
    let drawing = false;
    series.forEach((d, i) => {
      const v = d[line.key];
      if (v === null || v === undefined) {
        drawing = false;
        return;
      }
      path += `${drawing ? "L" : "M"}${f.x(i).toFixed(1)},${f.y(Number(v)).toFixed(1)}`;
      drawing = true;
      const dot = el("circle", {
        class: `dot dot-${line.key}`,
        cx: f.x(i),
        cy: f.y(Number(v)),
        r: 3,
        fill: line.color,
      });
      dot.append(el("title", {}, `${dayLabel(d.day)}: ${opts.format(Number(v))} ${line.label}`));
      f.svg.append(dot);
    });
    if (path) {
      f.svg.insertBefore(
        el("path", {
          class: `line line-${line.key}`,
          d: path,
          fill: "none",
          stroke: line.color,
          "stroke-width": 2,
          "stroke-linejoin": "round",
        }),
        f.svg.querySelector("circle"),
      );
    }
  }
  if (values.length === 0) emptyNote(f, "No searches in this period yet");
}
