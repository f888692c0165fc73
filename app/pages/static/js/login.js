// Login page: POST the form to /api/auth/login (which sets the HttpOnly cookie), then go on.
import { api } from "./client.js";

const form = document.getElementById("login-form");
const status = document.getElementById("login-status");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  status.textContent = "Logging in…";
  try {
    await api("/api/auth/login", { method: "POST", body: { name: data.get("name"), password: data.get("password") } });
    window.location.assign(form.dataset.next || "/tasks");
  } catch (err) {
    status.textContent = err.status === 429 ? err.message : `Could not log in: ${err.message}`;
    form.querySelector("[name=password]").select();
  }
});
