// Staff check-in of appointments at the counter app: for a citizen who lost the code, find today's booking by
// its code or part of the phone number and check it in (the ticket is queued at the booked start and printed
// as any ticket). A self-installing module: counter.js only imports it.
import { ApiError, get, post } from "/static/shared/api.js";
import { $, clear, el } from "/static/shared/dom.js";
import { getLang } from "/static/shared/i18n.js";

const STRINGS = {
  vi: { open: "Lịch hẹn", title: "Xác nhận lịch hẹn", search: "Mã lịch hẹn hoặc số điện thoại",
    find: "Tìm", close: "Đóng", check_in: "Xác nhận có mặt", none: "Không có lịch hẹn nào khớp hôm nay.",
    ticket: "Đã cấp số {n} (xếp như lấy số lúc {start}).", booked: "Đã đặt", checked_in: "Đã xác nhận",
    cancelled: "Đã huỷ", missed: "Quá giờ", checkin_too_early: "Chưa đến giờ xác nhận (từ {from}).",
    checkin_too_late: "Đã quá giờ xác nhận (đến {until}): cấp số thường.", already_checked_in: "Lịch hẹn đã được xác nhận.",
    error: "Không thực hiện được: {m}" },
  en: { open: "Appointments", title: "Check in an appointment", search: "Appointment code or phone number",
    find: "Find", close: "Close", check_in: "Check in", none: "No appointment today matches.",
    ticket: "Ticket {n} issued (queued as if taken at {start}).", booked: "Booked", checked_in: "Checked in",
    cancelled: "Cancelled", missed: "Missed", checkin_too_early: "Too early to check in (from {from}).",
    checkin_too_late: "Too late to check in (until {until}): issue a normal ticket.", already_checked_in: "Already checked in.",
    error: "Not done: {m}" },
};
function s(key, vars = {}) {
  const d = STRINGS[getLang()] || STRINGS.vi;
  return (d[key] ?? STRINGS.vi[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
}
const hhmm = (iso) => (iso ? String(iso).slice(11, 16) : "");
let officeId = null;

async function office() {
  if (!officeId) officeId = (await get("/api/v1/auth/me")).office_id;
  return officeId;
}

function build() {
  const dialog = el("dialog", { id: "appt-dialog", class: "appt-dialog" },
    el("form", { method: "dialog", id: "appt-form", class: "transfer" },
      el("h2", { id: "appt-title" }),
      el("div", { class: "appt-search" },
        el("input", { id: "appt-q", maxlength: "32", autocomplete: "off" }),
        el("button", { type: "submit", id: "appt-find" })),
      el("p", { class: "muted", id: "appt-msg", role: "status" }),
      el("table", { class: "waiting appt-list" }, el("tbody", { id: "appt-rows" })),
      el("div", { class: "dialog-actions" }, el("button", { type: "button", class: "secondary", id: "appt-close" }))));
  document.body.append(dialog);
  dialog.addEventListener("keydown", (ev) => ev.stopPropagation());  // the counter's shortcuts stay out of it
  const opener = el("button", { type: "button", class: "secondary", id: "btn-appointments" });
  const controls = $(".counter-controls");
  if (controls) controls.append(opener);
  opener.onclick = () => { label(); $("#appt-msg").textContent = ""; clear($("#appt-rows")); dialog.showModal(); $("#appt-q").focus(); };
  $("#appt-close").onclick = () => dialog.close();
  $("#appt-form").addEventListener("submit", (ev) => { ev.preventDefault(); find(); });
  label();
}

function label() {
  $("#btn-appointments").textContent = s("open");
  $("#appt-title").textContent = s("title");
  $("#appt-q").placeholder = s("search");
  $("#appt-find").textContent = s("find");
  $("#appt-close").textContent = s("close");
}

async function find() {
  const q = $("#appt-q").value.trim();
  const rows = clear($("#appt-rows"));
  $("#appt-msg").textContent = "";
  if (!q) return;
  try {
    const oid = await office();
    const r = await get(`/api/v1/offices/${oid}/appointments?q=${encodeURIComponent(q)}`);
    if (!r.items.length) { $("#appt-msg").textContent = s("none"); return; }
    for (const a of r.items) {
      rows.append(el("tr", { dataset: { code: a.code } },
        el("td", { text: hhmm(a.start) }), el("td", { class: "num", text: a.code }), el("td", { text: a.phone || "" }),
        el("td", { text: s(a.status) }),
        el("td", {}, a.status === "booked"
          ? el("button", { type: "button", class: "appt-checkin", onclick: () => checkIn(a) }, s("check_in")) : null)));
    }
  } catch (e) { $("#appt-msg").textContent = s("error", { m: e.message }); }
}

async function checkIn(a) {
  try {
    const oid = await office();
    const ticket = await post(`/api/v1/offices/${oid}/appointments/check-in`, { code: a.code });
    $("#appt-msg").textContent = s("ticket", { n: ticket.display_number, start: hhmm(a.start) });
    await find().then(() => { $("#appt-msg").textContent = s("ticket", { n: ticket.display_number, start: hhmm(a.start) }); });
  } catch (e) {
    const d = (e instanceof ApiError && e.details) || {};
    $("#appt-msg").textContent = e instanceof ApiError && STRINGS.vi[e.code]
      ? s(e.code, { from: hhmm(d.checkin_from), until: hhmm(d.checkin_until) }) : s("error", { m: e.message });
  }
}

build();
