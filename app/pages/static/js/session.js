// The logged-in pages: a log-out button, and back to the login page when the login ends.
import { api, auth } from "./client.js";

auth.onUnauthorized = () => {
  window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
};

document.getElementById("logout")?.addEventListener("click", async () => {
  try { await api("/api/auth/logout", { method: "POST" }); } finally { window.location.assign("/login"); }
});
