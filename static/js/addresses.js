// Saved addresses: add one (the form), delete one (each row's button).
import { api, showError } from "./api.js";

const form = document.getElementById("address-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", "/api/v1/addresses", Object.fromEntries(new FormData(form)));
    window.location.reload();
  } catch (error) {
    showError(document.getElementById("address-error"), error);
  }
});
for (const button of document.querySelectorAll(".address-delete")) {
  button.addEventListener("click", async () => {
    await api("DELETE", `/api/v1/addresses/${button.dataset.address}`);
    button.closest("li").remove();
  });
}
