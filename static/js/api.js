// Talking to the JSON API, the CSRF token, and the page's translated strings.
//
// Every page that loads a module puts its strings in
//   <script type="application/json" id="i18n">{...}</script>
// (built with _() on the server), so no UI text lives in the JavaScript.

let strings = null;

function loadStrings() {
  if (strings === null) {
    const node = document.getElementById("i18n");
    try {
      strings = node ? JSON.parse(node.textContent) : {};
    } catch {
      strings = {};
    }
  }
  return strings;
}

/** A translated string with %(name)s placeholders filled from vars. */
export function t(key, vars = {}) {
  const table = loadStrings();
  const text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : key;
  return String(text).replace(/%\((\w+)\)[sd]|%%/g, (match, name) => {
    if (match === "%%") return "%";
    return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : match;
  });
}

/** The page language, for Intl formatting. */
export function pageLang() {
  return document.documentElement.lang || navigator.language || "en";
}

/** t() for a count: uses `${key}_one` / `${key}_other` by the language's plural rules. */
export function tn(key, count, vars = {}) {
  let form = "other";
  try {
    form = new Intl.PluralRules(pageLang()).select(count) === "one" ? "one" : "other";
  } catch {
    form = count === 1 ? "one" : "other";
  }
  return t(`${key}_${form}`, { num: count, ...vars });
}

/** A short, localised number: 1234 -> "1.2K" / "1234". */
export function compactNumber(n) {
  try {
    return new Intl.NumberFormat(pageLang(), { notation: "compact", maximumFractionDigits: 1 }).format(n);
  } catch {
    return String(n);
  }
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") || "" : "";
}

/** An API failure: .status (0 for network), .code, .fields, .message (translated by the server). */
export class ApiError extends Error {
  constructor(message, { status = 0, code = "error", fields = {} } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }
}

/** Turn a parsed error body (or nothing) into an ApiError. */
export function errorFromBody(status, body) {
  const err = body && typeof body === "object" ? body.error : null;
  if (err && typeof err === "object") {
    return new ApiError(err.message || t("error_generic"), {
      status,
      code: err.code || "error",
      fields: err.fields || {},
    });
  }
  return new ApiError(t("error_status", { status }), { status, code: "http_" + status });
}

const SAFE_METHODS = new Set(["GET", "HEAD"]);

/** fetch() a JSON endpoint: resolves to the parsed body (null for 204), or throws ApiError. */
export async function api(method, url, body) {
  method = method.toUpperCase();
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (!SAFE_METHODS.has(method)) headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(t("error_network"), { status: 0, code: "network" });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw errorFromBody(response.status, data);
  return data;
}

/**
 * Show an error in an element (role=alert): the message, then one line per invalid field.
 * `labels` maps API field names to human labels; `inputs` maps them to form controls,
 * which get aria-invalid. Passing a falsy error clears the element.
 */
export function showError(el, error, { labels = {}, inputs = {} } = {}) {
  for (const input of Object.values(inputs)) {
    if (input) input.removeAttribute("aria-invalid");
  }
  if (!el) return;
  el.replaceChildren();
  if (!error) {
    el.hidden = true;
    return;
  }
  const message = document.createElement("p");
  message.textContent = error.message || t("error_generic");
  el.append(message);
  const fields = error.fields && typeof error.fields === "object" ? error.fields : {};
  const names = Object.keys(fields);
  if (names.length) {
    const list = document.createElement("ul");
    for (const name of names) {
      const item = document.createElement("li");
      const label = document.createElement("strong");
      label.textContent = labels[name] || name;
      item.append(label, document.createTextNode(": " + fields[name]));
      list.append(item);
      if (inputs[name]) inputs[name].setAttribute("aria-invalid", "true");
    }
    el.append(list);
  }
  el.hidden = false;
}

/** Briefly show a status text (e.g. "Saved") in an element with role=status. */
export function flashStatus(el, text, ms = 2500) {
  if (!el) return;
  el.textContent = text;
  clearTimeout(el._flashTimer);
  el._flashTimer = setTimeout(() => {
    el.textContent = "";
  }, ms);
}

export function prefersReducedMotion() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/** Seconds as m:ss.s (e.g. 75.25 -> "1:15.3"). */
export function formatTime(seconds, decimals = 1) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const scale = 10 ** decimals;
  seconds = Math.round(seconds * scale) / scale;
  const minutes = Math.floor(seconds / 60);
  const rest = seconds - minutes * 60;
  const text = rest.toFixed(decimals);
  const padded = rest < 10 ? "0" + text : text;
  return `${minutes}:${padded}`;
}

/** Integer minor units as the reader's locale writes money (never floats in the model). */
export function formatMoney(minor, currency) {
  const digits = currency === "JPY" ? 0 : 2;
  try {
    return new Intl.NumberFormat(pageLang(), {
      style: "currency",
      currency,
      currencyDisplay: "narrowSymbol",
      minimumFractionDigits: digits,
    }).format(minor / 10 ** digits);
  } catch {
    return (minor / 10 ** digits).toFixed(digits) + " " + currency;
  }
}
