// "Đã có lịch hẹn" at the kiosk: type the booking's code on on-screen keys, or scan its QR (or the chip ID
// card's QR) with the kiosk's scanner, which types like a keyboard and ends with Enter. A check-in issues the
// ticket, shown by the kiosk's own ticket screen. Too early or too late is said plainly, with the offer of a
// normal ticket. Its own strings and screen, so kiosk.js only installs it.
import { post, ApiError } from "/static/shared/api.js";
import { el, $, clear } from "/static/shared/dom.js";
import { getLang } from "/static/shared/i18n.js";

const STRINGS = {
  vi: {
    open: "ĐÃ CÓ LỊCH HẸN", open_sub: "Nhập hoặc quét mã lịch hẹn", title: "Nhập mã lịch hẹn",
    help: "Chạm các phím bên dưới, hoặc đưa mã QR lịch hẹn / thẻ căn cước vào máy quét.",
    confirm: "XÁC NHẬN", erase: "⌫ Xoá", back: "‹ Quay lại", normal: "LẤY SỐ THƯỜNG", retry: "Nhập lại",
    too_early_title: "Bạn đến sớm", too_early: "Lịch hẹn lúc {start}. Bạn có thể xác nhận từ {from}. Hoặc lấy số thường ngay bây giờ.",
    too_late_title: "Đã quá giờ hẹn", too_late: "Lịch hẹn lúc {start} chỉ nhận xác nhận đến {until}. Mời bạn lấy số thường.",
    unknown_title: "Không tìm thấy lịch hẹn", unknown: "Không có lịch hẹn nào với mã này. Xin kiểm tra lại mã, hoặc lấy số thường.",
    done_title: "Lịch hẹn này đã được xác nhận", done: "Mã này đã được dùng để lấy số. Nếu bạn mất số, xin hỏi cán bộ hướng dẫn.",
    cancelled_title: "Lịch hẹn đã huỷ", cancelled: "Lịch hẹn này đã bị huỷ. Mời bạn lấy số thường.",
    card_title: "Không đọc được thẻ", card: "Không đọc được mã QR của thẻ căn cước. Xin thử lại hoặc nhập mã lịch hẹn.",
    error_title: "Chưa xác nhận được", error: "Không kết nối được máy chủ. Xin thử lại hoặc hỏi cán bộ hướng dẫn.",
  },
  en: {
    open: "I HAVE AN APPOINTMENT", open_sub: "Type or scan your appointment code", title: "Enter your appointment code",
    help: "Touch the keys below, or hold the appointment's QR code or your chip ID card to the scanner.",
    confirm: "CONFIRM", erase: "⌫ Erase", back: "‹ Back", normal: "TAKE A NORMAL TICKET", retry: "Try again",
    too_early_title: "You are early", too_early: "Your appointment is at {start}. You can check in from {from}. Or take a normal ticket now.",
    too_late_title: "Your appointment time has passed", too_late: "Check-in for {start} closed at {until}. Please take a normal ticket.",
    unknown_title: "Appointment not found", unknown: "No appointment has this code. Please check it, or take a normal ticket.",
    done_title: "Already checked in", done: "This code has already been used for a ticket. If you lost it, please ask the staff.",
    cancelled_title: "Appointment cancelled", cancelled: "This appointment was cancelled. Please take a normal ticket.",
    card_title: "Card not read", card: "The ID card's QR code could not be read. Please try again or type your code.",
    error_title: "Not checked in yet", error: "The server cannot be reached. Please try again or ask the staff.",
  },
};
const KEYS = "ACDEFHJKMNPQRTUVWXY34679".split("");
const MAX = 8;
const IDLE_MS = 30000;

function s(key, vars = {}) {
  const d = STRINGS[getLang()] || STRINGS.vi;
  return (d[key] ?? STRINGS.vi[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");
}
const hhmm = (iso) => (iso ? String(iso).slice(11, 16) : "");

// kiosk: { officeId(), show(name), home(), idle(ms), showTicket(ticket, service), serviceById(id), onAuthLost() }
export function installAppointments(kiosk) {
  let typed = "";
  let scan = "";
  let busy = false;

  const screen = el("section", { id: "screen-appointment", class: "screen hidden appointment" },
    el("h1", { class: "appt-prompt", id: "appt-title" }),
    el("p", { class: "hint", id: "appt-help" }),
    el("div", { class: "appt-code", id: "appt-code", "aria-live": "polite" }),
    el("div", { class: "appt-keys", id: "appt-keys" }),
    el("div", { class: "appt-actions" },
      el("button", { type: "button", class: "back", id: "appt-back", onclick: () => kiosk.home() }),
      el("button", { type: "button", class: "secondary appt-erase", id: "appt-erase", onclick: erase }),
      el("button", { type: "button", class: "appt-go", id: "appt-go", onclick: () => submit({ code: typed }) })),
    el("div", { class: "appt-result hidden", id: "appt-result", role: "alert" },
      el("h2", { id: "appt-result-title" }), el("p", { class: "lead", id: "appt-result-text" }),
      el("div", { class: "appt-actions" },
        el("button", { type: "button", class: "appt-normal", id: "appt-normal", onclick: () => kiosk.home() }),
        el("button", { type: "button", class: "secondary", id: "appt-retry", onclick: () => open() }))));
  $("main").append(screen);
  const entry = el("button", { type: "button", class: "appt-open", id: "appt-open", onclick: () => open() },
    el("span", { class: "go-title", id: "appt-open-title" }), el("span", { class: "go-sub", id: "appt-open-sub" }));
  $("#screen-start").append(entry);

  function label() {
    $("#appt-open-title").textContent = s("open");
    $("#appt-open-sub").textContent = s("open_sub");
    $("#appt-title").textContent = s("title");
    $("#appt-help").textContent = s("help");
    $("#appt-back").textContent = s("back");
    $("#appt-erase").textContent = s("erase");
    $("#appt-go").textContent = s("confirm");
    $("#appt-normal").textContent = s("normal");
    $("#appt-retry").textContent = s("retry");
    const keys = clear($("#appt-keys"));
    for (const k of KEYS) keys.append(el("button", { type: "button", class: "appt-key", dataset: { key: k }, onclick: () => press(k) }, k));
  }
  function render() {
    $("#appt-code").textContent = typed.padEnd(7, "·");
    $("#appt-go").disabled = typed.length < 4 || busy;
  }
  function press(k) { if (typed.length < MAX) typed += k; render(); kiosk.idle(IDLE_MS); }
  function erase() { typed = typed.slice(0, -1); render(); kiosk.idle(IDLE_MS); }
  function open() {
    typed = "";
    scan = "";
    label();
    $("#appt-result").classList.add("hidden");
    $("#appt-keys").classList.remove("hidden");
    render();
    kiosk.show("appointment");
    kiosk.idle(IDLE_MS);
  }
  function result(title, text) {
    $("#appt-result-title").textContent = title;
    $("#appt-result-text").textContent = text;
    $("#appt-result").classList.remove("hidden");
    $("#appt-keys").classList.add("hidden");
    kiosk.idle(IDLE_MS);
  }

  async function submit(body) {
    if (busy || (body.code !== undefined && body.code.length < 4)) return;
    busy = true;
    render();
    try {
      const ticket = await post(`/api/v1/offices/${kiosk.officeId()}/appointments/check-in`, body);
      kiosk.showTicket(ticket, kiosk.serviceById(ticket.service_id) || { name: "", code: "" });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const d = e.details || {};
      if (e.status === 401) return kiosk.onAuthLost();
      if (e.code === "checkin_too_early") result(s("too_early_title"), s("too_early", { start: hhmm(d.start), from: hhmm(d.checkin_from) }));
      else if (e.code === "checkin_too_late") result(s("too_late_title"), s("too_late", { start: hhmm(d.start), until: hhmm(d.checkin_until) }));
      else if (e.code === "already_checked_in") result(s("done_title"), s("done"));
      else if (e.code === "appointment_cancelled") result(s("cancelled_title"), s("cancelled"));
      else if (e.status === 404) result(s("unknown_title"), s("unknown"));
      else if (e.status === 422 && body.id_card_qr) result(s("card_title"), s("card"));
      else if (e.status === 422) result(s("unknown_title"), s("unknown"));
      else result(s("error_title"), s("error"));
    } finally {
      busy = false;
      render();
    }
  }

  // a scanner types fast and ends with Enter: an ID card's QR has "|" in it, a booking's QR is its code.
  // On the start screen the kiosk's scanner (scanner.js) hands a booking code here (`scan`); a card scanned
  // there is a walk-in's (idcard.js), a card scanned on this screen checks in the holder's booking.
  function scanFromStart(text) {
    open();
    typed = text.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, MAX);
    render();
    submit({ code: typed });
  }
  document.addEventListener("keydown", (ev) => {
    if (document.body.dataset.screen !== "appointment") return;
    if (ev.key === "Enter") {
      const text = (scan || typed).trim();
      scan = "";
      if (text.includes("|")) submit({ id_card_qr: text });
      else if (text) { typed = text.toUpperCase().replace(/[^A-Z0-9]/g, "").slice(0, MAX); render(); submit({ code: typed }); }
      ev.preventDefault();
    } else if (ev.key === "Backspace") { erase(); scan = ""; }
    else if (ev.key.length === 1) {
      scan += ev.key;
      if (/[A-Za-z0-9]/.test(ev.key) && !scan.includes("|") && typed.length < MAX) { typed += ev.key.toUpperCase(); render(); }
    }
  });
  // the kiosk's language buttons re-render its own screens; this module relabels its own
  document.addEventListener("click", (ev) => { if (ev.target.closest && ev.target.closest(".lang")) label(); });
  label();
  return { relabel: label, scan: scanFromStart };
}
