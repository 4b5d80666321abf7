// Tokens: a device token arrives once in the URL fragment (#token=...) or by pairing; staff log in.
const KEY = "qms.token." + location.pathname.split("/")[1];

export function getToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    localStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return localStorage.getItem(KEY);
}

export function setToken(token) {
  if (token) localStorage.setItem(KEY, token); else localStorage.removeItem(KEY);
}

// Pairing for device pages: show a 6-digit code until a head approves it, then keep the token.
export async function pair(kind, showCode) {
  for (;;) {
    const res = await fetch("/api/v1/pairings", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ kind }),
    });
    if (!res.ok) { await sleep(5000); continue; }
    const p = await res.json();
    showCode(p.code, p.expires_at);
    for (;;) {
      await sleep(2000);
      let s;
      try { s = await (await fetch("/api/v1/pairings/" + encodeURIComponent(p.pairing_id))).json(); }
      catch { continue; }
      if (s.status === "approved" && s.token) { setToken(s.token); return s.token; }
      if (s.status === "expired") break;
    }
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
