// The group page, live: joins the group's Socket.IO room and redraws its state, seats left,
// members, empty seats and countdown from each "group.updated" (sent by the server after the
// commit that took, paid or released a seat, filled or failed the group, or paid the leader's
// rebate), and from the snapshot the join returns; after a reconnect or a resync it joins
// again, so nothing missed stays on screen. The countdown runs on the server's seconds left and stops once the group
// has succeeded or failed. Needs /static/vendor/socket.io.min.js (window.io).
import { connection, onResync } from "./realtime.js";

const page = document.querySelector(".group-page[data-group-id]");
let strings = null;
let deadline = null;
let timer = null;

function s(key) {
  if (strings === null) {
    const node = document.getElementById("group-i18n");
    try {
      strings = node ? JSON.parse(node.textContent) : {};
    } catch {
      strings = {};
    }
  }
  return strings[key] ?? (key === "states" || key === "seats_left" ? {} : key);
}

function format(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const sec = seconds % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
}

function tick() {
  const node = page.querySelector(".group-page-countdown");
  if (!node || deadline === null) return;
  const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
  node.textContent = left > 0 ? s("ends_in").replace("%(time)s", format(left)) : s("ended");
}

function startCountdown(secondsLeft) {
  deadline = Date.now() + Number(secondsLeft) * 1000;
  if (timer === null) timer = setInterval(tick, 1000);
  tick();
}

function stopCountdown() {
  deadline = null;
  if (timer !== null) clearInterval(timer);
  timer = null;
  const node = page.querySelector(".group-page-countdown");
  if (node) node.textContent = "";
}

function memberItem(member) {
  const item = document.createElement("li");
  item.className = "group-member";
  let avatar;
  if (member.avatar_url) {
    avatar = document.createElement("img");
    avatar.src = member.avatar_url;
    avatar.alt = "";
  } else {
    avatar = document.createElement("span");
    avatar.setAttribute("aria-hidden", "true");
    avatar.textContent = Array.from(member.name || "?")[0] || "?";
  }
  avatar.className = "avatar";
  const name = document.createElement("span");
  name.textContent = member.role === "leader" ? `${member.name} · ${s("leader")}` : member.name;
  item.append(avatar, name);
  return item;
}

function emptySeat() {
  const item = document.createElement("li");
  item.className = "group-member empty";
  const avatar = document.createElement("span");
  avatar.className = "avatar";
  avatar.setAttribute("aria-hidden", "true");
  avatar.textContent = "?";
  const label = document.createElement("span");
  label.className = "muted";
  label.textContent = s("empty_seat");
  item.append(avatar, label);
  return item;
}

function render(group) {
  if (!group || group.id !== page.dataset.groupId) return;
  const state = page.querySelector(".group-state");
  if (state.dataset.state === "pending" && group.state !== "pending") {
    window.location.reload(); // the leader's payment opened it: the page offers sharing now
    return;
  }
  const open = group.state === "open";
  state.dataset.state = group.state;
  state.querySelector(".group-state-label").textContent = s("states")[group.state] || group.state;
  state.querySelector(".group-open-info").hidden = !open;
  const seats = s("seats_left")[String(group.seats_left)];
  if (seats) state.querySelector(".group-seats-left").textContent = seats;
  if (open) startCountdown(group.seconds_left);
  else stopCountdown();

  const list = page.querySelector(".group-members");
  const items = (group.members || []).map(memberItem);
  for (let i = 0; i < group.seats_left; i += 1) items.push(emptySeat());
  list.replaceChildren(...items);

  for (const node of page.querySelectorAll(".group-outcome[data-outcome]")) {
    node.hidden = node.dataset.outcome !== group.state;
  }
  const rebate = page.querySelector(".group-rebate");
  if (rebate) rebate.hidden = group.rebate_state !== "paid"; // 团长免单, paid after the window
  const join = page.querySelector(".group-join");
  if (join) join.disabled = !open || group.seats_left === 0;
  if (!open) {
    const offer = page.querySelector(".group-offer");
    if (offer) offer.hidden = true;
  }
}

function join(socket) {
  socket.emit("group.join", { group: page.dataset.groupId }, (ack) => {
    if (ack && ack.ok) render(ack.group);
  });
}

if (page) {
  const countdown = page.querySelector(".group-page-countdown");
  if (page.querySelector(".group-state").dataset.state === "open" && countdown) {
    startCountdown(countdown.dataset.secondsLeft);
  }
  const socket = connection();
  if (socket) {
    socket.on("group.updated", render);
    socket.on("connect", () => join(socket)); // each (re)connection joins again
    if (socket.connected) join(socket);
    onResync(() => join(socket));
  }
}
