// The seller's campaign page: start a campaign, end one (through the API).
import { api, showError } from "./api.js";

const form = document.getElementById("campaign-form");
if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const number = (name) => (data.get(name) === "" || data.get(name) === null ? null : Number(data.get(name)));
    const body = {
      price_minor: number("price_minor"),
      group_size: number("group_size"),
      window_minutes: number("window_minutes"),
      per_person_limit: number("per_person_limit"),
      total_limit: number("total_limit"),
      leader_free: data.get("leader_free") === "on",
      free_quota: number("free_quota") || 0,
      free_budget_minor: number("free_budget_minor") || 0,
    };
    try {
      await api("POST", `/api/v1/products/${data.get("product_id")}/group-campaigns`, body);
      window.location.reload();
    } catch (error) {
      showError(form.querySelector(".campaign-error"), error);
    }
  });
}
document.querySelectorAll(".campaign-end").forEach((button) => {
  button.addEventListener("click", async () => {
    await api("POST", `/api/v1/group-campaigns/${button.dataset.campaignId}/end`);
    window.location.reload();
  });
});
