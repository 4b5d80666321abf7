// Dossiers of the one-stop system on the counter page: link one or more dossier codes to the current
// ticket (typed, or scanned by a barcode/QR scanner that types the code fast and ends with Enter),
// show the linked codes with an unlink button, and look a dossier's visits up.
//
// A scanner burst is caught wherever the page's focus is (outside a text field): keys are held for a
// few milliseconds; a fast run of at least MIN_CODE characters ending in Enter goes into the link field
// and is submitted, anything slower is handed on unchanged, so single-key shortcuts keep working.
import { ApiError, del, get, post } from "/static/shared/api.js";
import { $, clear, el } from "/static/shared/dom.js";
import { getLang } from "/static/shared/i18n.js";

const TEXT = {
  vi: {
    d_code: "Mã hồ sơ", d_code_ph: "Quét hoặc nhập mã hồ sơ", d_proc_ph: "Thủ tục (không bắt buộc)",
    d_link: "Gắn hồ sơ", d_unlink: "Bỏ gắn", d_target: "cho số {n}", d_target_done: "cho số {n} (đã xong)", d_search_title: "Tra cứu hồ sơ", d_search: "Tra cứu",
    d_linked: "Đã gắn hồ sơ {code} với số {n}", d_unlinked: "Đã bỏ gắn hồ sơ {code}",
    d_no_ticket: "Chưa có số hiện tại: gọi số trước rồi mới gắn hồ sơ.",
    d_invalid: "Mã hồ sơ “{code}” không đúng định dạng của đơn vị.",
    d_already: "Hồ sơ {code} đã được gắn với số này.",
    d_state: "Số {n} đang ở trạng thái “{status}”: chỉ gắn hồ sơ cho số đã gọi, đang phục vụ hoặc đã xong.",
    d_not_today: "Chỉ sửa liên kết hồ sơ trong ngày giao dịch.",
    d_forbidden: "Bạn không có quyền gắn hồ sơ cho số này.",
    d_not_found: "Không tìm thấy hồ sơ {code} ở đơn vị này.",
    d_visit: "{date} · số {n} · {counter} · {clerk}", d_rating: "Đánh giá: {r}", d_no_rating: "Chưa đánh giá",
    r_very_satisfied: "Rất hài lòng", r_satisfied: "Hài lòng", r_neutral: "Bình thường",
    r_unsatisfied: "Không hài lòng", r_very_unsatisfied: "Rất không hài lòng",
  },
  en: {
    d_code: "Dossier code", d_code_ph: "Scan or type a dossier code", d_proc_ph: "Procedure (optional)",
    d_link: "Link dossier", d_unlink: "Unlink", d_target: "to {n}", d_target_done: "to {n} (done)", d_search_title: "Dossier look-up", d_search: "Look up",
    d_linked: "Linked dossier {code} to {n}", d_unlinked: "Unlinked dossier {code}",
    d_no_ticket: "No current ticket: call a number before linking a dossier.",
    d_invalid: "“{code}” is not a dossier code of this office's shape.",
    d_already: "Dossier {code} is already linked to this ticket.",
    d_state: "Ticket {n} is {status}: link dossiers to a ticket that is called, being served or done.",
    d_not_today: "Dossier links are corrected on the day of the visit only.",
    d_forbidden: "You may not link dossiers to this ticket.",
    d_not_found: "No visit of this office carries dossier {code}.",
    d_visit: "{date} · no. {n} · {counter} · {clerk}", d_rating: "Rating: {r}", d_no_rating: "Not rated",
    r_very_satisfied: "Very satisfied", r_satisfied: "Satisfied", r_neutral: "Neutral",
    r_unsatisfied: "Unsatisfied", r_very_unsatisfied: "Very unsatisfied",
  },
};
function tr(key, vars = {}) {
  const s = (TEXT[getLang()] || TEXT.vi)[key] ?? TEXT.vi[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
}

const MIN_CODE = 6;      // a scanned code is at least this long
const BURST_GAP_MS = 60; // a scanner types faster than this between keys; people do not
const replayed = new WeakSet();
const D = { ticket: null, links: [], busy: false, held: [], timer: null, lastAt: 0 };

// ---- rendering
function applyTexts() {
  document.querySelectorAll("[data-dossier-i18n]").forEach((n) => { n.textContent = tr(n.dataset.dossierI18n); });
  document.querySelectorAll("[data-dossier-ph]").forEach((n) => { n.placeholder = tr(n.dataset.dossierPh); });
  renderLinks();
}

function showError(text) { $("#dossier-error").textContent = text || ""; }

function say(text) {  // the page's own status line (counter.js owns it; we only write a message)
  const m = $("#message");
  if (m) { m.textContent = text; m.dataset.kind = "ok"; }
}

function renderLinks() {
  const list = clear($("#dossier-list"));
  for (const link of D.links) {
    list.append(el("li", { "data-code": link.code, "data-link": link.id },
      el("span", { class: "code", text: link.code }),
      link.procedure ? el("span", { class: "proc", text: link.procedure }) : null,
      el("button", { type: "button", class: "secondary small unlink", text: tr("d_unlink"),
        "aria-label": `${tr("d_unlink")} ${link.code}`, onclick: () => unlink(link) })));
  }
  const none = !D.ticket;
  $("#dossier-link").disabled = none || D.busy;
  $("#dossier-target").textContent = D.ticket ? tr(D.ticket.status === "done" ? "d_target_done" : "d_target",
    { n: D.ticket.display_number }) : "";
}

function refusal(e, code) {
  if (!(e instanceof ApiError)) return e && e.message ? e.message : String(e);
  const n = D.ticket ? D.ticket.display_number : "";
  if (e.code === "already_linked") return tr("d_already", { code });
  if (e.code === "not_today") return tr("d_not_today");
  if (e.status === 409) return tr("d_state", { n, status: e.details.status || "?" });
  if (e.status === 422 && (e.details.field === "code" || e.details.field === undefined)) return tr("d_invalid", { code });
  if (e.status === 403) return tr("d_forbidden");
  return e.message;
}

// ---- the current ticket's links
async function loadLinks() {
  const id = D.ticket && D.ticket.id;
  if (!id) { D.links = []; renderLinks(); return; }
  try {
    const res = await get(`/api/v1/tickets/${id}/dossiers`);
    if (D.ticket && D.ticket.id === id) D.links = res.items;
  } catch { /* the list stays as it was; the next change reloads it */ }
  renderLinks();
}

// After a finish the counter has no current ticket, but the visit just served may still be linked (a
// receipt scanned at the end): its links stay on screen until the next call.
async function keepIfDone(prev) {
  try {
    const tk = await get(`/api/v1/tickets/${prev.id}`);
    if (!D.ticket && tk.status === "done") { D.ticket = tk; await loadLinks(); return; }
  } catch { /* gone or not ours: nothing to keep */ }
  renderLinks();
}

document.addEventListener("qms:current-ticket", (ev) => {
  const cur = ev.detail;
  if (!cur && D.ticket) {
    if (D.ticket.status === "done") { renderLinks(); return; }
    const prev = D.ticket;
    D.ticket = null;
    D.links = [];
    showError("");
    keepIfDone(prev);
    return;
  }
  const changed = (cur && cur.id) !== (D.ticket && D.ticket.id);
  D.ticket = cur;
  if (changed) { showError(""); D.links = []; }
  if (changed || (cur && (cur.dossiers || []).length !== D.links.length)) loadLinks();
  else renderLinks();
});

async function link(rawCode) {
  const code = (rawCode || "").trim().toUpperCase();
  if (!code) return;
  if (!D.ticket) { showError(tr("d_no_ticket")); return; }
  if (D.busy) return;
  D.busy = true;
  renderLinks();
  const procedure = $("#dossier-procedure").value.trim();
  try {
    const body = procedure ? { code, procedure } : { code };
    const made = await post(`/api/v1/tickets/${D.ticket.id}/dossiers`, body);
    D.links = [...D.links.filter((l) => l.id !== made.id), made];
    $("#dossier-code").value = "";
    showError("");
    say(tr("d_linked", { code: made.code, n: D.ticket.display_number }));
    const form = $("#dossier-form");
    form.classList.remove("dossier-flash");
    void form.offsetWidth;
    form.classList.add("dossier-flash");
  } catch (e) {
    $("#dossier-code").value = code;
    showError(refusal(e, code));
  } finally {
    D.busy = false;
    renderLinks();
  }
}

async function unlink(row) {
  if (D.busy) return;
  D.busy = true;
  try {
    await del(`/api/v1/dossier-links/${row.id}`);
    D.links = D.links.filter((l) => l.id !== row.id);
    showError("");
    say(tr("d_unlinked", { code: row.code }));
  } catch (e) {
    showError(refusal(e, row.code));
  } finally {
    D.busy = false;
    renderLinks();
  }
}

// ---- the look-up of a dossier's visits
async function lookup(rawCode) {
  const code = (rawCode || "").trim().toUpperCase();
  const out = clear($("#dossier-visits"));
  if (!code) return;
  let me;
  try {
    me = await get("/api/v1/auth/me");
    const res = await get(`/api/v1/offices/${me.office_id}/dossiers/${encodeURIComponent(code)}`);
    out.append(el("div", { class: "visit-code", text: res.code }));
    for (const v of res.visits) {
      const tk = v.ticket || {};
      out.append(el("div", { class: "visit" },
        el("div", { text: tr("d_visit", {
          date: (v.linked_at || "").slice(0, 16).replace("T", " "), n: tk.display_number || "?",
          counter: v.counter ? v.counter.name : "–", clerk: v.clerk ? v.clerk.full_name || "" : "–" }) }),
        el("div", { class: "muted", text: (v.procedure ? v.procedure + " · " : "")
          + (v.rating ? tr("d_rating", { r: tr("r_" + v.rating) }) : tr("d_no_rating")) })));
    }
  } catch (e) {
    out.append(el("p", { class: "dossier-error", text: e instanceof ApiError && e.status === 404
      ? tr("d_not_found", { code }) : (e && e.message) || String(e) }));
  }
}

// ---- a scanner's burst, wherever the focus is
function isTextField(node) {
  if (!node) return false;
  const tag = node.tagName || "";
  return tag === "TEXTAREA" || tag === "SELECT" || node.isContentEditable
    || (tag === "INPUT" && !["button", "submit", "checkbox", "radio"].includes((node.type || "").toLowerCase()));
}

function workVisible() {
  const view = $("#view-work");
  const dialog = $("#transfer-dialog");
  return view && !view.classList.contains("hidden") && !(dialog && dialog.open);
}

function replay() {  // not a scan: hand the held keys on to the page's own shortcuts, in order
  const keys = D.held;
  D.held = [];
  for (const k of keys) {
    const ev = new KeyboardEvent("keydown", { key: k.key, code: k.code, bubbles: true, cancelable: true });
    replayed.add(ev);
    (k.target && k.target.isConnected ? k.target : document.body).dispatchEvent(ev);
  }
}

function flushLater() {
  clearTimeout(D.timer);
  D.timer = setTimeout(() => {
    const text = D.held.map((k) => k.key).join("");
    if (text.length >= MIN_CODE && D.held.every((k) => k.fast)) {  // a scanner set to send no Enter
      D.held = [];
      $("#dossier-code").value = text;
      $("#dossier-code").focus();
    } else {
      replay();
    }
  }, BURST_GAP_MS + 15);
}

function onKeyCapture(ev) {
  if (replayed.has(ev) || ev.ctrlKey || ev.metaKey || ev.altKey || !workVisible()) return;
  if (isTextField(ev.target)) return;  // typing (or scanning) into a field: the field has it
  const now = performance.now();
  const fast = now - D.lastAt < BURST_GAP_MS;
  if (ev.key === "Enter" && D.held.length) {
    const text = D.held.map((k) => k.key).join("");
    const burst = text.length >= MIN_CODE && D.held.slice(1).every((k) => k.fast) && fast;
    if (burst) {
      ev.preventDefault();
      ev.stopImmediatePropagation();
      clearTimeout(D.timer);
      D.held = [];
      $("#dossier-code").value = text;
      link(text);
      return;
    }
    clearTimeout(D.timer);
    replay();
    return;
  }
  if (ev.key.length !== 1 || ev.key === " " || ev.repeat) {
    if (D.held.length) { clearTimeout(D.timer); replay(); }
    return;
  }
  ev.preventDefault();
  ev.stopImmediatePropagation();  // held: the page's shortcuts see it later, unless it is a scan
  D.lastAt = now;
  D.held.push({ key: ev.key, code: ev.code, target: ev.target, fast });
  flushLater();
}

// ---- wiring
window.addEventListener("keydown", onKeyCapture, true);
$("#dossier-form").addEventListener("submit", (ev) => { ev.preventDefault(); link($("#dossier-code").value); });
$("#dossier-search-form").addEventListener("submit", (ev) => { ev.preventDefault(); lookup($("#dossier-search").value); });
new MutationObserver(applyTexts).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
applyTexts();
