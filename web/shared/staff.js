// Staff log-in and log-out, the same on the counter, admin, dashboard and report pages, so a fix to
// one (a double submit, a message, the password left in the field) reaches all of them.
import { ApiError, post } from "/static/shared/api.js";
import { setToken } from "/static/shared/auth.js";
import { $ } from "/static/shared/dom.js";
import { t } from "/static/shared/i18n.js";

// Wire #login-form (#username, #password, #login-error): on success keep the token and call onLoggedIn.
export function wireLoginForm(onLoggedIn, describe = (e) => (e && e.message) || String(e)) {
  const form = $("#login-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("#login-error").textContent = "";
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;  // one request per press, however impatient the clerk
    try {
      const res = await post("/api/v1/auth/login", { username: $("#username").value, password: $("#password").value },
        { token: null });
      setToken(res.token);
      $("#password").value = "";
      await onLoggedIn();
    } catch (e) {
      $("#login-error").textContent = e instanceof ApiError && e.status === 401 ? t("login_failed") : describe(e);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

// End the session on the server (best effort) and forget the token here.
export async function logOut() {
  try { await post("/api/v1/auth/logout"); } catch { /* the token may be gone already */ }
  setToken(null);
}
