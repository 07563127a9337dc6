// The sandbox pay page tells the page that opened it (popup or iframe) how the payment stands.
const card = document.querySelector(".sandbox-card");
if (card) {
  const message = { type: "liveshop:payment", intent: card.dataset.intent, state: card.dataset.state };
  for (const target of [window.opener, window.parent]) {
    if (target && target !== window) {
      try {
        target.postMessage(message, window.location.origin);
      } catch {
        // a cross-origin opener: the order's live event still arrives
      }
    }
  }
}
