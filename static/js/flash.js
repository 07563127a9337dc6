// The product edit page's flash sales: list them and schedule a new one through the API.

import { api, showError } from "./api.js";

const root = document.getElementById("flash-sales");
const strings = JSON.parse(document.getElementById("flash-i18n").textContent);

function fill(text, vars) {
  return text.replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

function toMinor(text, currency) {
  const digits = currency === "JPY" ? 0 : 2;
  const clean = String(text).trim();
  if (!(digits ? /^\d+(\.\d{1,2})?$/ : /^\d+$/).test(clean)) return null;
  const [whole, fraction = ""] = clean.split(".");
  return Number(whole) * 10 ** digits + Number((fraction + "00").slice(0, digits) || 0);
}

function local(iso) {
  return new Date(/Z|[+-]\d\d:?\d\d$/.test(iso) ? iso : iso + "Z").toLocaleString();
}

async function load() {
  const data = await api("GET", `/api/v1/products/${root.dataset.product}/flash-sales`);
  const list = document.getElementById("flash-list");
  list.replaceChildren(
    ...data.items.map((f) => {
      const li = document.createElement("li");
      li.textContent = fill(strings.row, {
        price: f.price_display,
        start: local(f.starts_at),
        end: local(f.ends_at),
        sold: f.sold,
        quantity: f.quantity,
      });
      return li;
    }),
  );
}

if (root) {
  const form = document.getElementById("flash-form");
  const errorBox = document.getElementById("flash-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const price = toMinor(data.price, root.dataset.currency);
    if (price === null) {
      showError(errorBox, { message: strings.bad_price });
      return;
    }
    try {
      await api("POST", `/api/v1/products/${root.dataset.product}/flash-sales`, {
        price_minor: price,
        quantity: Number(data.quantity),
        per_buyer_limit: data.per_buyer_limit ? Number(data.per_buyer_limit) : null,
        // datetime-local is the merchant's local time: send it as an absolute instant.
        starts_at: new Date(data.starts_at).toISOString(),
        ends_at: new Date(data.ends_at).toISOString(),
      });
      showError(errorBox, null);
      form.reset();
      await load();
    } catch (error) {
      showError(errorBox, error);
    }
  });
  load().catch((error) => showError(errorBox, error));
}
