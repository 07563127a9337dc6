// The live dashboard: figures, a line per series over the minutes of the show (SVG drawn here,
// each line scaled to its own maximum, with the values in <title>s), and results per product.

const SVG = "http://www.w3.org/2000/svg";
const SERIES = ["viewers", "hearts", "chat_messages", "orders"];
const W = 640;
const H = 200;
const PAD = { left: 8, right: 8, top: 12, bottom: 24 };

function el(name, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== null) node.textContent = text;
  return node;
}

function gmvText(gmv, formatMoney) {
  const parts = Object.entries(gmv || {}).map(([currency, minor]) => formatMoney(minor, currency));
  return parts.length ? parts.join(" + ") : "—";
}

function minuteLabel(iso) {
  const at = Date.parse(/Z|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z");
  return new Date(at).toLocaleTimeString(document.documentElement.lang || undefined, {
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** The legend's (translated) name of a series. */
function seriesLabel(name) {
  const item = document.querySelector(`.legend-item[data-series="${name}"]`);
  return item ? item.textContent.trim() : name;
}

export function chartSvg(series, t) {
  const svg = el("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "chart live-plot",
    role: "img",
    "aria-label": t("chart_label"),
  });
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const baseY = PAD.top + plotH;
  svg.append(el("line", { class: "axis", x1: PAD.left, y1: baseY, x2: W - PAD.right, y2: baseY }));
  if (!series.length) {
    svg.append(el("text", { class: "tick", x: W / 2, y: H / 2, "text-anchor": "middle" }, t("chart_empty")));
    return svg;
  }
  const step = series.length > 1 ? plotW / (series.length - 1) : 0;
  const x = (i) => PAD.left + (series.length > 1 ? i * step : plotW / 2);
  for (const name of SERIES) {
    const top = Math.max(1, ...series.map((p) => p[name] || 0));
    const y = (p) => (baseY - (plotH * (p[name] || 0)) / top).toFixed(1);
    const points = series.map((p, i) => `${x(i).toFixed(1)},${y(p)}`);
    if (series.length === 1) points.splice(0, 1, `${PAD.left},${y(series[0])}`, `${W - PAD.right},${y(series[0])}`);
    const line = el("polyline", { class: `series series-${name}`, points: points.join(" "), fill: "none" });
    line.append(el("title", {}, `${seriesLabel(name)}: ${t("chart_peak", { n: top })}`));
    svg.append(line);
  }
  // One transparent column per minute: hover (and screen readers) get that minute's figures.
  series.forEach((p, i) => {
    const width = Math.max(step, 4);
    const col = el("rect", { class: "minute", x: (x(i) - width / 2).toFixed(1), y: PAD.top, width: width.toFixed(1), height: plotH });
    col.append(
      el(
        "title",
        {},
        `${minuteLabel(p.minute)} · ${SERIES.map((name) => `${seriesLabel(name)} ${p[name] || 0}`).join(" · ")}`,
      ),
    );
    svg.append(col);
  });
  svg.append(el("text", { class: "tick", x: PAD.left, y: H - 6 }, minuteLabel(series[0].minute)));
  svg.append(
    el("text", { class: "tick", x: W - PAD.right, y: H - 6, "text-anchor": "end" }, minuteLabel(series[series.length - 1].minute)),
  );
  return svg;
}

export function renderDashboard(d, { formatMoney, t }) {
  const set = (id, value) => {
    const node = document.getElementById(id);
    if (node) node.textContent = String(value);
  };
  set("stat-viewers", d.current_viewers);
  set("stat-peak", d.peak_viewers);
  set("stat-hearts", d.hearts);
  set("stat-chat", d.chat_per_minute);
  set("stat-clicks", d.product_clicks);
  set("stat-orders", d.orders);
  set("stat-gmv", gmvText(d.gmv_minor, formatMoney));
  document.getElementById("dashboard-chart").replaceChildren(chartSvg(d.series, t));
  const body = document.querySelector("#product-stats tbody");
  body.replaceChildren(
    ...d.products.map((p) => {
      const tr = document.createElement("tr");
      const cells = [
        p.title,
        t("minutes_short", { n: Math.round(p.pinned_seconds / 60) }),
        p.clicks,
        p.orders,
        p.currency ? formatMoney(p.gmv_minor, p.currency) : "—",
      ];
      cells.forEach((value, i) => {
        const cell = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) cell.scope = "row";
        cell.textContent = String(value);
        tr.append(cell);
      });
      return tr;
    }),
  );
  set("dashboard-updated", t("updated_at", { time: new Date().toLocaleTimeString() }));
}
