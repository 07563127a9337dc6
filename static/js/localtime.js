// Times in the viewer's zone: pages render <time datetime="...Z" data-local="datetime|date"> with
// UTC text (what shows without JS); this rewrites them with Intl in the page's language.

const lang = document.documentElement.lang || undefined;
const formats = {
  datetime: { dateStyle: "medium", timeStyle: "short" },
  date: { dateStyle: "medium" },
};

export function localTime(iso, style = "datetime") {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat(lang, formats[style] || formats.datetime).format(when);
  } catch {
    return when.toISOString();
  }
}

export function localiseTimes(root = document) {
  for (const node of root.querySelectorAll("time[data-local]")) {
    node.textContent = localTime(node.getAttribute("datetime"), node.dataset.local);
  }
}

localiseTimes();
