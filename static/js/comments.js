// The comments sheet: the rail's count and button, threads with "view N replies", replies with
// @mentions, likes, delete, approve (held comments) and reports. All text goes in as text
// nodes: nothing a user wrote is ever parsed as HTML.
import { api, compactNumber, pageLang } from "./api.js";
import { openReport } from "./report.js";

const sheet = document.getElementById("comments-sheet");
const strings = JSON.parse(document.getElementById("comments-i18n")?.textContent || "{}");

function ct(key, vars = {}) {
  const text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  return String(text).replace(/%\((\w+)\)s/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

function ctn(key, count) {
  let form = "other";
  try {
    form = new Intl.PluralRules(pageLang()).select(count) === "one" ? "one" : "other";
  } catch {
    form = count === 1 ? "one" : "other";
  }
  return ct(`${key}_${form}`, { num: count });
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const url = (template, id) => template.replace("__ID__", encodeURIComponent(id));

if (sheet) {
  const list = document.getElementById("comments-list");
  const more = document.getElementById("comments-more");
  const empty = document.getElementById("comments-empty");
  const errorBox = document.getElementById("comments-error");
  const title = document.getElementById("comments-title");
  const form = document.getElementById("comments-form");
  const input = document.getElementById("comments-input");
  const replying = document.getElementById("comments-replying");
  const reportDialog = document.getElementById("report-dialog");
  const signedIn = sheet.dataset.signedIn === "true";
  const counts = new Map(); // video id -> count shown on the rail
  let state = { video: null, cursor: null, total: 0, replyTo: null, opener: null };

  function showError(error) {
    errorBox.hidden = !error;
    errorBox.textContent = error ? error.message || ct("error_generic") : "";
  }

  function setCount(videoId, n) {
    counts.set(videoId, n);
    for (const item of document.querySelectorAll(".feed-item[data-video-id]")) {
      if (item.dataset.videoId !== videoId) continue;
      const button = item.querySelector(".comments-button");
      if (!button) continue;
      button.querySelector(".comments-count").textContent = compactNumber(n);
      button.querySelector(".comments-label").textContent = ctn("title", n);
    }
    if (state.video === videoId) title.textContent = ctn("title", n);
  }

  // Rail counts: ask once for every feed item that has none yet, as feed.js adds them.
  let pending = null;
  function refreshCounts() {
    const ids = [...document.querySelectorAll(".feed-item[data-video-id]")]
      .map((item) => item.dataset.videoId)
      .filter((id) => id && !counts.has(id));
    if (!ids.length) return;
    for (const id of ids) counts.set(id, 0);
    const query = ids.slice(0, 50).map(encodeURIComponent).join(",");
    api("GET", `${sheet.dataset.countsUrl}?videos=${query}`)
      .then((data) => {
        for (const [id, n] of Object.entries(data.counts)) setCount(id, n);
      })
      .catch(() => ids.forEach((id) => counts.delete(id)));
  }
  const feed = document.getElementById("feed");
  if (feed) {
    new MutationObserver(() => {
      clearTimeout(pending);
      pending = setTimeout(refreshCounts, 100);
    }).observe(feed, { childList: true });
    refreshCounts();
  }

  function person(p, className) {
    const link = el("a", className, p.display_name);
    link.href = p.url;
    return link;
  }

  function textNode(c) {
    const p = el("p", "comment-text");
    for (const part of c.segments) {
      if (part.user_id) {
        const link = el("a", "mention", part.text);
        link.href = url(sheet.dataset.userUrl, part.user_id);
        p.append(link);
      } else {
        p.append(document.createTextNode(part.text));
      }
    }
    return p;
  }

  function timeOf(c) {
    const when = new Date(c.created_at);
    const node = el("time", "comment-time");
    node.dateTime = c.created_at;
    try {
      node.textContent = when.toLocaleString(pageLang(), { dateStyle: "short", timeStyle: "short" });
    } catch {
      node.textContent = when.toISOString();
    }
    return node;
  }

  function renderComment(c) {
    const li = el("li", "comment");
    li.dataset.commentId = String(c.id);
    li.dataset.state = c.state;
    const body = el("div", "comment-body");
    if (c.state === "deleted" || c.state === "hidden") {
      body.append(el("p", "comment-removed muted", ct(c.state)));
    } else {
      const head = el("p", "comment-head");
      head.append(person(c.author, "comment-author"));
      if (c.reply_to) head.append(document.createTextNode(" ▸ "), person(c.reply_to, "comment-reply-to"));
      head.append(document.createTextNode(" · "), timeOf(c));
      body.append(head, textNode(c));
      if (c.state === "held") body.append(el("p", "comment-held", c.can_approve ? ct("held_staff") : ct("held")));
      const actions = el("div", "comment-actions");
      const reply = el("button", "link comment-reply", ct("reply"));
      reply.type = "button";
      reply.addEventListener("click", () => startReply(c));
      const like = el("button", "link comment-like");
      like.type = "button";
      like.setAttribute("aria-pressed", String(c.liked));
      like.setAttribute("aria-label", ct("like"));
      like.textContent = `♥ ${c.like_count}`;
      like.addEventListener("click", () => toggleLike(c, like));
      actions.append(reply, like);
      if (c.can_approve) actions.append(actionButton(ct("approve"), "comment-approve", () => approve(c, li)));
      if (c.can_delete) actions.append(actionButton(ct("delete"), "comment-delete", () => remove(c, li)));
      if (!c.mine) actions.append(actionButton(ct("report"), "comment-report", () => report("comment", c.id)));
      body.append(actions);
    }
    li.append(body);
    if (c.parent_id === null) {
      const replies = el("ol", "comment-replies");
      li.append(replies);
      const toggle = el("button", "link comment-view-replies");
      toggle.type = "button";
      toggle.hidden = c.reply_count === 0;
      toggle.textContent = ctn("view_replies", c.reply_count);
      toggle.addEventListener("click", () => loadReplies(c, li, toggle));
      li.append(toggle);
    }
    return li;
  }

  function actionButton(label, className, onClick) {
    const button = el("button", `link ${className}`, label);
    button.type = "button";
    button.addEventListener("click", onClick);
    return button;
  }

  async function loadReplies(c, li, toggle) {
    const cursor = li.dataset.repliesCursor;
    toggle.disabled = true;
    try {
      const q = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
      const page = await api("GET", url(sheet.dataset.repliesUrl, c.id) + q);
      const box = li.querySelector(".comment-replies");
      for (const reply of page.items) {
        if (!box.querySelector(`[data-comment-id="${reply.id}"]`)) box.append(renderComment(reply));
      }
      li.dataset.repliesCursor = page.next_cursor || "";
      toggle.textContent = ct("more_replies");
      toggle.hidden = !page.next_cursor;
    } catch (error) {
      showError(error);
    } finally {
      toggle.disabled = false;
    }
  }

  async function loadPage() {
    if (!state.video) return;
    const video = state.video;
    const q = state.cursor ? `?cursor=${encodeURIComponent(state.cursor)}` : "";
    more.disabled = true;
    try {
      const page = await api("GET", url(sheet.dataset.listUrl, video) + q);
      if (state.video !== video) return;
      if (page.total !== null && page.total !== undefined) setCount(video, page.total);
      for (const c of page.items) list.append(renderComment(c));
      state.cursor = page.next_cursor;
      more.hidden = !page.next_cursor;
      empty.hidden = list.children.length > 0;
    } catch (error) {
      showError(error);
    } finally {
      more.disabled = false;
    }
  }

  function open(videoId, opener) {
    state = { video: videoId, cursor: null, total: 0, replyTo: null, opener };
    list.replaceChildren();
    showError(null);
    cancelReply();
    title.textContent = ct("comments");
    sheet.hidden = false;
    document.body.classList.add("comments-open");
    loadPage();
    (input || sheet.querySelector(".comments-close")).focus({ preventScroll: true });
  }

  function close() {
    sheet.hidden = true;
    document.body.classList.remove("comments-open");
    if (state.opener) state.opener.focus({ preventScroll: true });
    state.video = null;
  }

  function startReply(c) {
    if (!form) {
      showError({ message: ct("login") });
      return;
    }
    state.replyTo = c;
    replying.hidden = false;
    replying.querySelector(".comments-replying-text").textContent = ct("replying_to", { name: c.author.display_name });
    input.value = `@${c.author.display_name} `;
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }

  function cancelReply() {
    state.replyTo = null;
    if (replying) replying.hidden = true;
  }

  async function toggleLike(c, button) {
    if (!signedIn) {
      showError({ message: ct("login") });
      return;
    }
    try {
      const out = await api(c.liked ? "DELETE" : "PUT", `${url(sheet.dataset.commentUrl, c.id)}/like`);
      c.liked = out.liked;
      c.like_count = out.like_count;
      button.setAttribute("aria-pressed", String(out.liked));
      button.textContent = `♥ ${out.like_count}`;
    } catch (error) {
      showError(error);
    }
  }

  async function remove(c, li) {
    if (!window.confirm(ct("confirm_delete"))) return;
    try {
      await api("DELETE", url(sheet.dataset.commentUrl, c.id));
      const gone = { ...c, state: "deleted" };
      const fresh = renderComment(gone);
      const replies = li.querySelector(":scope > .comment-replies");
      if (replies) fresh.querySelector(".comment-replies").replaceWith(replies);
      li.replaceWith(fresh);
      if (c.state === "visible") setCount(state.video, Math.max(0, (counts.get(state.video) || 1) - 1));
    } catch (error) {
      showError(error);
    }
  }

  async function approve(c, li) {
    try {
      const out = await api("POST", `${url(sheet.dataset.commentUrl, c.id)}/approve`);
      li.replaceWith(renderComment(out));
      setCount(state.video, (counts.get(state.video) || 0) + 1);
    } catch (error) {
      showError(error);
    }
  }

  function report(kind, id) {
    if (!signedIn) {
      showError({ message: ct("login") });
      return;
    }
    openReport(kind, id, (message) => {
      showError({ message });
      errorBox.classList.add("is-info");
    });
  }

  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || !state.video) return;
    errorBox.classList.remove("is-info");
    const body = { text };
    const target = state.replyTo;
    if (target) {
      body.parent_id = target.id;
      body.mention_ids = [target.author.id];
    }
    const send = form.querySelector(".comments-send");
    send.disabled = true;
    try {
      const made = await api("POST", url(sheet.dataset.listUrl, state.video), body);
      input.value = "";
      showError(null);
      if (made.parent_id === null) {
        list.prepend(renderComment(made));
      } else {
        const thread = list.querySelector(`[data-comment-id="${made.parent_id}"] > .comment-replies`);
        thread?.append(renderComment(made));
      }
      empty.hidden = true;
      if (made.state === "visible") setCount(state.video, (counts.get(state.video) || 0) + 1);
      cancelReply();
    } catch (error) {
      showError(error);
    } finally {
      send.disabled = false;
    }
  });

  replying?.querySelector(".comments-cancel-reply").addEventListener("click", cancelReply);
  more.addEventListener("click", loadPage);
  sheet.querySelector(".comments-close").addEventListener("click", close);
  sheet.querySelector(".comments-report-video").addEventListener("click", () => {
    if (state.video) report("video", state.video);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !sheet.hidden && !reportDialog.open) close();
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".comments-button");
    if (!button) return;
    const item = button.closest("[data-video-id]");
    if (item) open(item.dataset.videoId, button);
  });
}
