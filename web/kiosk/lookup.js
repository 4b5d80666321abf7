// "Tra cứu kết quả hồ sơ": the citizen types the dossier code on an on-screen keyboard (letters,
// digits, '.', '-') or scans the receipt's barcode/QR, and reads the answer in large text. The kiosk
// never waits more than 4 s for it, says plainly when the province's service is down, and goes back to
// the start screen by itself. The screens are built here so the page's HTML stays as it was.
import { getToken } from "/static/shared/auth.js";
import { el, $, clear } from "/static/shared/dom.js";

const WAIT_MS = 4000;
const IDLE_MS = { typing: 45000, answer: 25000 };
const MAX_LEN = 40;
const ROWS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL.", "ZXCVBNM-"];

export const LOOKUP_DICT = {
  vi: {
    lookup_button: "Tra cứu kết quả hồ sơ", lookup_button_sub: "Nhập hoặc quét mã trên giấy hẹn",
    lookup_title: "Tra cứu kết quả hồ sơ",
    lookup_help: "Nhập mã hồ sơ in trên giấy tiếp nhận và hẹn trả kết quả, hoặc đưa mã vạch/mã QR trên giấy vào máy quét.",
    lookup_placeholder: "Mã hồ sơ…", lookup_go: "TRA CỨU", lookup_clear: "Xoá hết", lookup_back: "‹ Quay lại",
    lookup_wait: "Đang tra cứu…", lookup_ready: "HỒ SƠ ĐÃ CÓ KẾT QUẢ", lookup_not_ready: "HỒ SƠ CHƯA CÓ KẾT QUẢ",
    lookup_return_date: "Ngày hẹn trả kết quả: {date}",
    lookup_not_found: "Không tìm thấy hồ sơ", lookup_not_found_text: "Không có hồ sơ mang mã {code}. Xin kiểm tra lại mã trên giấy hẹn hoặc hỏi cán bộ tại quầy.",
    lookup_bad_code: "Mã hồ sơ không đúng", lookup_bad_code_text: "Mã «{code}» không đúng dạng mã hồ sơ. Xin kiểm tra lại mã trên giấy hẹn.",
    lookup_down: "Hệ thống tra cứu đang gián đoạn", lookup_down_text: "Hệ thống thông tin một cửa của tỉnh đang không trả lời. Xin thử lại sau ít phút hoặc hỏi cán bộ tại quầy.",
    lookup_off_text: "Máy này chưa được kết nối tra cứu kết quả. Xin hỏi cán bộ tại quầy.",
    lookup_busy_text: "Máy đang bận, xin thử lại sau ít giây.",
    lookup_again: "Tra cứu mã khác", lookup_done: "Xong",
  },
  en: {
    lookup_button: "Look up a dossier's result", lookup_button_sub: "Type or scan the code on your receipt",
    lookup_title: "Look up a dossier's result",
    lookup_help: "Type the dossier code printed on your receipt and return-date slip, or hold the slip's barcode/QR code under the scanner.",
    lookup_placeholder: "Dossier code…", lookup_go: "LOOK UP", lookup_clear: "Clear", lookup_back: "‹ Back",
    lookup_wait: "Looking up…", lookup_ready: "THE RESULT IS READY", lookup_not_ready: "THE RESULT IS NOT READY YET",
    lookup_return_date: "Return date: {date}",
    lookup_not_found: "Dossier not found", lookup_not_found_text: "There is no dossier with code {code}. Please check the code on your slip or ask the staff.",
    lookup_bad_code: "Not a dossier code", lookup_bad_code_text: "«{code}» is not a dossier code. Please check the code on your slip.",
    lookup_down: "The look-up service is down", lookup_down_text: "The province's one-stop system is not answering. Please try again in a few minutes or ask the staff.",
    lookup_off_text: "This kiosk is not connected to a result look-up. Please ask the staff.",
    lookup_busy_text: "The kiosk is busy; please try again in a few seconds.",
    lookup_again: "Look up another code", lookup_done: "Done",
  },
};

let ctx = null;  // { t, show, idle, home, officeId: () => id, lang: () => "vi"|"en" }
let code = "";
let serial = 0;

// A receipt's QR may hold a link to the portal rather than the bare code: take the code out of it.
export function codeFromScan(text) {
  const s = text.trim();
  if (!/^https?:\/\//i.test(s)) return s;
  try {
    const u = new URL(s);
    for (const k of ["code", "ma", "mahoso", "maHoSo", "ma_ho_so", "id"]) if (u.searchParams.get(k)) return u.searchParams.get(k);
    const parts = u.pathname.split("/").filter(Boolean);
    return parts.length ? decodeURIComponent(parts[parts.length - 1]) : s;
  } catch { return s; }
}

function typed() {
  const box = $("#lookup-code");
  box.textContent = code || ctx.t("lookup_placeholder");
  box.classList.toggle("empty", !code);
  $("#lookup-go").disabled = !code;
}

function press(ch) {
  ctx.idle(IDLE_MS.typing);
  if (ch === "⌫") code = code.slice(0, -1);
  else if (code.length < MAX_LEN) code += ch;
  typed();
}

function buildScreens() {
  const main = $("main");
  const keys = el("div", { class: "osk", id: "lookup-keys" },
    ...ROWS.map((row) => el("div", { class: "osk-row" },
      ...[...row].map((ch) => el("button", { type: "button", class: "osk-key", dataset: { key: ch }, text: ch,
        onclick: () => press(ch) })))),
    el("div", { class: "osk-row" },
      el("button", { type: "button", class: "osk-key wide", id: "lookup-clear", "data-i18n": "lookup_clear",
        onclick: () => { code = ""; typed(); ctx.idle(IDLE_MS.typing); } }),
      el("button", { type: "button", class: "osk-key wide", dataset: { key: "⌫" }, text: "⌫", "aria-label": "Backspace",
        onclick: () => press("⌫") })));
  main.append(
    el("section", { id: "screen-lookup", class: "screen hidden" },
      el("h1", { class: "lookup-title", "data-i18n": "lookup_title" }),
      el("p", { class: "lead lookup-help", "data-i18n": "lookup_help" }),
      el("div", { class: "lookup-code empty", id: "lookup-code", role: "textbox", "aria-live": "polite" }),
      keys,
      el("button", { type: "button", class: "big-go", id: "lookup-go", onclick: () => lookUp(code) },
        el("span", { class: "go-title", "data-i18n": "lookup_go" })),
      el("div", { class: "lookup-wait hidden", id: "lookup-wait", role: "status", "data-i18n": "lookup_wait" }),
      el("button", { type: "button", class: "back", id: "lookup-back", "data-i18n": "lookup_back", onclick: () => ctx.home() })),
    el("section", { id: "screen-lookup-result", class: "screen hidden" },
      el("div", { class: "lookup-card", id: "lookup-card" },
        el("div", { class: "lookup-icon", id: "lookup-icon", "aria-hidden": "true" }),
        el("h1", { id: "lookup-headline" }),
        el("div", { class: "lookup-result-code", id: "lookup-result-code" }),
        el("p", { class: "lookup-status", id: "lookup-status" }),
        el("p", { class: "lookup-date", id: "lookup-date" }),
        el("div", { class: "lookup-actions" },
          el("button", { type: "button", class: "back", id: "lookup-again", "data-i18n": "lookup_again",
            onclick: () => openLookup() }),
          el("button", { type: "button", class: "done", id: "lookup-done", "data-i18n": "lookup_done",
            onclick: () => ctx.home() })))));
}

// drawn, not an emoji: kiosk PCs often have no colour emoji font
function magnifier() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 48 48");
  svg.setAttribute("width", "64");
  svg.setAttribute("height", "64");
  const circle = document.createElementNS(ns, "circle");
  for (const [k, v] of Object.entries({ cx: 20, cy: 20, r: 13, fill: "none", stroke: "currentColor", "stroke-width": 5 })) circle.setAttribute(k, v);
  const handle = document.createElementNS(ns, "line");
  for (const [k, v] of Object.entries({ x1: 30, y1: 30, x2: 43, y2: 43, stroke: "currentColor", "stroke-width": 6, "stroke-linecap": "round" })) handle.setAttribute(k, v);
  svg.append(circle, handle);
  return svg;
}

function startButton() {
  const box = $("#start-actions") || (() => {
    const div = el("div", { id: "start-actions", class: "start-actions" });
    $("#services").after(div);
    return div;
  })();
  box.append(el("button", { type: "button", class: "start-action hidden", id: "lookup-open", onclick: () => openLookup() },
    el("span", { class: "start-action-icon", "aria-hidden": "true" }, magnifier()),
    el("span", { class: "start-action-body" },
      el("span", { class: "start-action-title", "data-i18n": "lookup_button" }),
      el("span", { class: "start-action-sub", "data-i18n": "lookup_button_sub" }))));
}

export function setupLookup(context) {
  ctx = context;
  buildScreens();
  startButton();
}

// The button shows only when the office has a look-up (office.dossier_lookup_url).
export function setLookupAvailable(office) {
  const b = $("#lookup-open");
  if (b) b.classList.toggle("hidden", !(office && office.dossier_lookup_url));
}

export function lookupAvailable() {
  const b = $("#lookup-open");
  return !!b && !b.classList.contains("hidden");
}

export function openLookup(initial = "") {
  serial++;
  code = initial;
  $("#lookup-wait").classList.add("hidden");
  typed();
  ctx.show("lookup");
  ctx.idle(IDLE_MS.typing);
}

// A scanned receipt (from the start screen or the look-up screen): look it up at once.
export function scanned(text) {
  openLookup(codeFromScan(text).slice(0, MAX_LEN * 2));
  return lookUp(code);
}

export function onLookupScreen() {
  const s = document.body.dataset.screen;
  return s === "lookup" || s === "lookup-result";
}

async function fetchStatus(value) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), WAIT_MS);
  const headers = { Accept: "application/json" };
  const token = getToken();
  if (token) headers.Authorization = "Bearer " + token;
  try {
    const res = await fetch(`/api/v1/offices/${ctx.officeId()}/dossier-status?code=${encodeURIComponent(value)}`,
      { headers, signal: ctl.signal });
    const body = await res.json().catch(() => null);
    return { status: res.status, body };
  } catch {
    return { status: 0, body: null };  // unreachable or over 4 s: said as "down"
  } finally {
    clearTimeout(timer);
  }
}

async function lookUp(value) {
  value = (value || "").trim();
  if (!value) return;
  const mine = ++serial;
  $("#lookup-wait").classList.remove("hidden");
  $("#lookup-go").disabled = true;
  const { status, body } = await fetchStatus(value);
  if (mine !== serial || document.body.dataset.screen !== "lookup") return;  // the citizen left meanwhile
  $("#lookup-wait").classList.add("hidden");
  $("#lookup-go").disabled = false;
  const err = (body && body.error) || {};
  if (status === 200 && body) return answer(body.ready ? "ready" : "not_ready", body);
  if (status === 404) return answer("not_found", { code: value.toUpperCase() });
  if (status === 422) return answer("bad_code", { code: value });
  if (status === 409 && err.code === "lookup_off") return answer("off", {});
  if (status === 429) return answer("busy", {});
  return answer("down", {});
}

function formatDate(iso) {
  const [y, m, d] = iso.split("-");
  return `${d}/${m}/${y}`;
}

function answer(kind, data) {
  const t = ctx.t;
  const card = $("#lookup-card");
  card.dataset.kind = kind;
  const icons = { ready: "✓", not_ready: "⏳", not_found: "?", bad_code: "!", down: "!", off: "!", busy: "…" };
  $("#lookup-icon").textContent = icons[kind] || "!";
  const headline = { ready: t("lookup_ready"), not_ready: t("lookup_not_ready"), not_found: t("lookup_not_found"),
    bad_code: t("lookup_bad_code"), down: t("lookup_down"), off: t("lookup_down"), busy: t("lookup_down") }[kind];
  $("#lookup-headline").textContent = headline;
  $("#lookup-result-code").textContent = kind === "ready" || kind === "not_ready" ? data.code : "";
  const text = kind === "ready" || kind === "not_ready" ? (data.status_text || "")
    : kind === "not_found" ? t("lookup_not_found_text", { code: data.code })
    : kind === "bad_code" ? t("lookup_bad_code_text", { code: data.code })
    : kind === "off" ? t("lookup_off_text") : kind === "busy" ? t("lookup_busy_text") : t("lookup_down_text");
  $("#lookup-status").textContent = text;
  $("#lookup-date").textContent = data.return_date ? t("lookup_return_date", { date: formatDate(data.return_date) }) : "";
  ctx.show("lookup-result");
  ctx.idle(IDLE_MS.answer);
}
