// The public booking page /book?office_id=N: service → day → slot → confirmation with the code (large), its QR
// and a link to the booking's own page (/book?office_id=N&manage=…), where it can be cancelled.
// Times are shown as the server sends them: ISO 8601 with the office's offset, so HH:MM is the office's time.
import { get, post, ApiError } from "/static/shared/api.js";
import { el, $, clear } from "/static/shared/dom.js";
import { t, setDictionary, setLang, getLang, apply } from "/static/shared/i18n.js";

setDictionary({
  vi: {
    title: "Đặt lịch hẹn", step_service: "Lĩnh vực", step_day: "Ngày", step_slot: "Giờ", step_done: "Xác nhận",
    choose_service: "Chọn lĩnh vực bạn cần giải quyết", choose_day: "Chọn ngày", choose_slot: "Chọn giờ hẹn",
    no_services: "Cơ quan này chưa nhận đặt lịch hẹn trực tuyến.", no_days: "Không còn ngày nào nhận đặt lịch.",
    no_slots: "Ngày này đã hết giờ trống. Xin chọn ngày khác.", back: "‹ Quay lại",
    free: "còn {n} chỗ", full: "hết chỗ", phone: "Số điện thoại (không bắt buộc)",
    phone_note: "Chỉ cơ quan dùng để liên hệ khi cần; không hiển thị công khai.",
    book: "Đặt lịch", confirm: "{service} · {day} lúc {time}",
    your_code: "Mã lịch hẹn của bạn", when: "{day} · {start}–{end}",
    help: "Đến trước giờ hẹn: nhập mã này hoặc quét mã QR tại máy lấy số (mục «Đã có lịch hẹn») từ {from} đến {until}.",
    manage_help: "Lưu lại trang này để xem hoặc huỷ lịch hẹn:", manage_link: "trang lịch hẹn của bạn",
    cancel: "Huỷ lịch hẹn", cancel_sure: "Bấm lần nữa để huỷ lịch hẹn", again: "Đặt lịch khác",
    st_booked: "Đã đặt lịch", st_checked_in: "Đã xác nhận có mặt", st_cancelled: "Lịch hẹn đã huỷ",
    st_missed: "Đã quá giờ xác nhận — lịch hẹn không còn hiệu lực", ticket: "Số thứ tự của bạn: {n}",
    slot_full: "Giờ này vừa hết chỗ. Xin chọn giờ khác.", rate_limited: "Bạn đặt quá nhiều lần. Xin thử lại sau ít phút.",
    invalid: "Giờ này không còn đặt được. Xin chọn giờ khác.", not_found: "Không tìm thấy lịch hẹn này.",
    no_office: "Thiếu hoặc sai mã cơ quan (office_id) trong địa chỉ.", network: "Không kết nối được máy chủ. Xin thử lại.",
    wd: "CN,T2,T3,T4,T5,T6,T7", today: "Hôm nay",
  },
  en: {
    title: "Book an appointment", step_service: "Service", step_day: "Day", step_slot: "Time", step_done: "Confirmed",
    choose_service: "Choose the service you need", choose_day: "Choose a day", choose_slot: "Choose a time",
    no_services: "This office does not take online appointments yet.", no_days: "No days are open for booking.",
    no_slots: "No free times left on this day. Please choose another day.", back: "‹ Back",
    free: "{n} left", full: "full", phone: "Phone number (optional)",
    phone_note: "Used only by the office to reach you if needed; never shown publicly.",
    book: "Book", confirm: "{service} · {day} at {time}",
    your_code: "Your appointment code", when: "{day} · {start}–{end}",
    help: "Before your time, type this code or scan the QR code at the ticket kiosk (\u201cI have an appointment\u201d) between {from} and {until}.",
    manage_help: "Keep this page to see or cancel your appointment:", manage_link: "your appointment's page",
    cancel: "Cancel the appointment", cancel_sure: "Tap again to cancel the appointment", again: "Book another",
    st_booked: "Booked", st_checked_in: "Checked in", st_cancelled: "Appointment cancelled",
    st_missed: "The check-in time has passed — this appointment has lapsed", ticket: "Your ticket number: {n}",
    slot_full: "That time has just filled up. Please choose another.", rate_limited: "Too many bookings; please try again in a few minutes.",
    invalid: "That time can no longer be booked. Please choose another.", not_found: "This appointment was not found.",
    no_office: "The address is missing a valid office_id.", network: "The server cannot be reached. Please try again.",
    wd: "Sun,Mon,Tue,Wed,Thu,Fri,Sat", today: "Today",
  },
});

const params = new URLSearchParams(location.search);
const state = { officeId: Number(params.get("office_id")) || null, info: null, service: null, day: null, slot: null,
  booking: null, manage: params.get("manage"), cancelArmed: false };

function step(name) {
  document.body.dataset.step = name;
  for (const li of document.querySelectorAll(".steps li")) li.classList.toggle("on", li.dataset.for === name);
}
function name(s) { return getLang() === "en" && s.name_en ? s.name_en : s.name; }
function hhmm(iso) { return iso.slice(11, 16); }
function dayLabel(ymd) {
  const [y, m, d] = ymd.split("-").map(Number);
  const wd = t("wd").split(",")[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
  return `${wd} ${String(d).padStart(2, "0")}/${String(m).padStart(2, "0")}`;
}
function fail(e, where) {
  const key = !(e instanceof ApiError) ? "network" : e.code === "slot_full" ? "slot_full"
    : e.status === 429 ? "rate_limited" : e.status === 404 ? "not_found" : e.status === 422 ? "invalid"
    : e.code === "network" ? "network" : null;
  $(where).textContent = key ? t(key) : e.message;
}

// ---- choosing
function renderServices() {
  const box = clear($("#services"));
  for (const s of state.info.services) {
    box.append(el("button", { type: "button", class: "choice service", dataset: { serviceId: s.id },
      onclick: () => { state.service = s; renderDays(); step("day"); } },
      el("span", { class: "code", text: s.code }), el("span", { text: name(s) })));
  }
  $("#no-services").classList.toggle("hidden", state.info.services.length > 0);
}

function renderDays() {
  $("#day-service").textContent = name(state.service);
  const box = clear($("#days"));
  state.info.days.forEach((d, i) => {
    box.append(el("button", { type: "button", class: "choice day", dataset: { day: d },
      onclick: () => chooseDay(d) }, dayLabel(d), i === 0 && d === todayOf() ? el("span", { class: "sub", text: t("today") }) : null));
  });
  $("#no-days").classList.toggle("hidden", state.info.days.length > 0);
}
function todayOf() { return state.info.days.length ? state.info.days[0] : ""; }

async function chooseDay(d) {
  state.day = d;
  state.slot = null;
  $("#slot-day").textContent = `${name(state.service)} · ${dayLabel(d)}`;
  $("#confirm").classList.add("hidden");
  $("#book-error").textContent = "";
  clear($("#slots"));
  step("slot");
  try {
    const r = await get(`/api/v1/offices/${state.officeId}/slots?service_id=${state.service.id}&date=${d}`, { token: null });
    renderSlots(r.items);
  } catch (e) { fail(e, "#book-error"); }
}

function renderSlots(items) {
  const box = clear($("#slots"));
  for (const s of items) {
    box.append(el("button", { type: "button", class: "choice slot", disabled: s.free <= 0,
      dataset: { start: s.start }, onclick: (ev) => chooseSlot(s, ev.currentTarget) },
      hhmm(s.start), el("span", { class: "sub", text: s.free > 0 ? t("free", { n: s.free }) : t("full") })));
  }
  $("#no-slots").classList.toggle("hidden", items.some((s) => s.free > 0));
}

function chooseSlot(s, button) {
  state.slot = s;
  for (const b of document.querySelectorAll(".slot")) b.classList.toggle("selected", b === button);
  $("#confirm-text").textContent = t("confirm", { service: name(state.service), day: dayLabel(state.day), time: hhmm(s.start) });
  $("#confirm").classList.remove("hidden");
  $("#book").focus();
}

async function book(ev) {
  ev.preventDefault();
  if (!state.slot) return;
  $("#book").disabled = true;
  $("#book-error").textContent = "";
  const body = { service_id: state.service.id, start: state.slot.start, lang: getLang() };
  const phone = $("#phone").value.trim();
  if (phone) body.phone = phone;
  try {
    const made = await post(`/api/v1/offices/${state.officeId}/appointments`, body, { token: null });
    state.manage = made.manage_code;
    history.replaceState(null, "", `/book?office_id=${state.officeId}&manage=${encodeURIComponent(made.manage_code)}`);
    await showBooking();
  } catch (e) {
    fail(e, "#book-error");
    if (e instanceof ApiError && (e.code === "slot_full" || e.status === 422)) chooseDay(state.day).then(() => fail(e, "#book-error"));
  } finally { $("#book").disabled = false; }
}

// ---- the booking
async function showBooking() {
  const b = await get(`/api/v1/appointments/${encodeURIComponent(state.manage)}`, { token: null });
  state.booking = b;
  if (!state.officeId) state.officeId = b.office && b.office.id;
  renderBooking();
  step("done");
}

function renderBooking() {
  const b = state.booking;
  if (!b) return;
  document.body.dataset.status = b.status;
  if (b.office) $("#office-name").textContent = b.office.name;
  $("#b-status").textContent = t("st_" + b.status);
  $("#b-code").textContent = b.code;
  $("#b-qr").src = `/api/v1/appointments/${encodeURIComponent(state.manage)}/qr.svg`;
  $("#b-when").textContent = t("when", { day: dayLabel(b.start.slice(0, 10)), start: hhmm(b.start), end: hhmm(b.end) });
  $("#b-service").textContent = b.service ? name(b.service) : "";
  $("#b-help").textContent = b.status === "booked" ? t("help", { from: hhmm(b.checkin_from), until: hhmm(b.checkin_until) }) : "";
  $("#b-ticket").textContent = b.ticket ? t("ticket", { n: b.ticket.display_number }) : "";
  const manage = `/book?office_id=${state.officeId || ""}&manage=${encodeURIComponent(state.manage)}`;
  $("#b-manage").href = manage;
  $("#b-manage").textContent = location.origin + manage;
  $("#cancel").classList.toggle("hidden", b.status !== "booked");
  $("#cancel").textContent = t(state.cancelArmed ? "cancel_sure" : "cancel");
  $("#b-qr").classList.toggle("hidden", b.status !== "booked");
}

async function cancel() {
  if (!state.cancelArmed) { state.cancelArmed = true; renderBooking(); return; }
  state.cancelArmed = false;
  $("#cancel-error").textContent = "";
  try {
    state.booking = await post(`/api/v1/appointments/${encodeURIComponent(state.manage)}/cancel`, {}, { token: null });
    renderBooking();
  } catch (e) { fail(e, "#cancel-error"); }
}

// ---- start
function wireLanguage() {
  for (const b of document.querySelectorAll(".lang")) {
    b.classList.toggle("active", b.dataset.lang === getLang());
    b.onclick = () => {
      setLang(b.dataset.lang);
      for (const o of document.querySelectorAll(".lang")) o.classList.toggle("active", o.dataset.lang === getLang());
      document.title = t("title");
      if (state.info) { renderServices(); if (state.service) renderDays(); }
      if (state.slot) $("#confirm-text").textContent = t("confirm", { service: name(state.service), day: dayLabel(state.day), time: hhmm(state.slot.start) });
      renderBooking();
    };
  }
}

async function start() {
  document.documentElement.lang = getLang();
  apply();
  document.title = t("title");
  wireLanguage();
  $("#confirm").addEventListener("submit", book);
  $("#cancel").onclick = cancel;
  $("#again").onclick = () => { location.href = `/book?office_id=${state.officeId || ""}`; };
  for (const b of document.querySelectorAll("[data-back]")) b.onclick = () => step(b.dataset.back);
  try {
    if (state.manage) { await showBooking(); }
    if (state.officeId && !state.manage) {
      state.info = await get(`/api/v1/offices/${state.officeId}/booking`, { token: null });
      $("#office-name").textContent = state.info.office.name;
      renderServices();
      step("service");
    } else if (!state.manage) { $("#fatal").textContent = t("no_office"); step("error"); }
  } catch (e) {
    fail(e, "#fatal");
    step("error");
  }
  document.body.classList.add("ready");
}

start();
