// Login and office choice shared by the dashboard and the report page (heads and admins only).
import { get } from "/static/shared/api.js";
import { getToken, setToken } from "/static/shared/auth.js";
import { $, clear, el } from "/static/shared/dom.js";
import { getLang, setLang, t } from "/static/shared/i18n.js";
import { logOut, wireLoginForm } from "/static/shared/staff.js";

export async function startSession(onReady) {
  $("#lang-toggle").textContent = getLang() === "vi" ? "EN" : "VI";
  $("#lang-toggle").addEventListener("click", () => { setLang(getLang() === "vi" ? "en" : "vi"); location.reload(); });
  $("#logout").addEventListener("click", async () => { await logOut(); location.reload(); });
  wireLoginForm(() => enter(onReady));
  if (getToken()) await enter(onReady); else showLogin();
}

function showLogin() {
  $("#view-login").classList.remove("hidden");
  for (const id of ["#view-dash", "#view-reports"]) { const v = $(id); if (v) v.classList.add("hidden"); }
}

async function enter(onReady) {
  let me;
  try { me = await get("/api/v1/auth/me"); } catch { setToken(null); return showLogin(); }
  if (!["head", "admin"].includes(me.kind)) {
    setToken(null); showLogin(); $("#login-error").textContent = t("not_head"); return;
  }
  $("#view-login").classList.add("hidden");
  $("#logout").classList.remove("hidden");
  const offices = (await get("/api/v1/offices")).items || [];
  const select = $("#office-select");
  const wanted = Number(new URLSearchParams(location.search).get("office_id")) || me.office_id || (offices[0] && offices[0].id);
  if (offices.length > 1) {
    clear(select);
    for (const o of offices) select.append(el("option", { value: o.id, text: o.name, selected: o.id === wanted }));
    select.classList.remove("hidden");
  }
  const pick = (id) => onReady(offices.find((o) => o.id === id) || { id, name: "" }, me);
  select.addEventListener("change", () => pick(Number(select.value)));
  pick(wanted);
}

export function onUnauthorized() { setToken(null); location.reload(); }
