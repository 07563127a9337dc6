// The viewer's live room on wide screens: the chat (with the pinned card) and the shelf sit in a
// column beside the 9:16 player instead of over it. The same nodes move, so live-room.js keeps
// updating them by id; they move back when the window narrows.

const wide = window.matchMedia("(min-width: 900px)");
const aside = document.getElementById("live-aside");
const overlay = document.querySelector(".live-overlay");
const shelf = [document.getElementById("live-shelf"), document.getElementById("live-shelf-empty")];

function home(node) {
  return node ? { node, parent: node.parentNode, next: node.nextSibling } : null;
}

const homes = [home(overlay), ...shelf.map(home)].filter(Boolean);

function place() {
  if (!aside) return;
  aside.hidden = !wide.matches;
  if (wide.matches) {
    if (overlay) document.getElementById("aside-chat").append(overlay);
    for (const node of shelf) if (node) document.getElementById("aside-shelf").append(node);
  } else {
    for (const { node, parent, next } of homes) parent.insertBefore(node, next);
  }
}

place();
wide.addEventListener("change", place);
