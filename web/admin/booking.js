// Appointment settings of an office in the admin page: slot length, days ahead, the check-in window, and the
// public booking page's address. Its own card and save button (admin.js calls renderBookingSettings).
import { ApiError, patch } from "/static/shared/api.js";
import { $, el } from "/static/shared/dom.js";
import { getLang } from "/static/shared/i18n.js";

const STRINGS = {
  vi: { title: "Lịch hẹn", booking_slot_min: "Độ dài mỗi khung giờ hẹn (phút)", booking_days_ahead: "Nhận đặt trước tối đa (ngày)",
    checkin_early_min: "Được xác nhận sớm (phút trước giờ hẹn)", checkin_late_min: "Được xác nhận muộn (phút sau giờ hẹn)",
    page: "Trang đặt lịch cho công dân:", save: "Lưu cài đặt lịch hẹn", saved: "Đã lưu.",
    note: "Dịch vụ nhận đặt lịch và số chỗ mỗi khung giờ: trong thẻ Dịch vụ." },
  en: { title: "Appointments", booking_slot_min: "Slot length (min)", booking_days_ahead: "Bookable days ahead",
    checkin_early_min: "Check-in opens (min before the start)", checkin_late_min: "Check-in closes (min after the start)",
    page: "The citizens' booking page:", save: "Save appointment settings", saved: "Saved.",
    note: "Which services take bookings, and how many per slot: in the Services tab." },
};
const FIELDS = [["booking_slot_min", 1, 240], ["booking_days_ahead", 0, 365], ["checkin_early_min", 0, 240],
  ["checkin_late_min", 0, 240]];
const s = (key) => (STRINGS[getLang()] || STRINGS.vi)[key] ?? key;

export function renderBookingSettings(office) {
  let card = $("#booking-settings");
  if (!card) {
    const anchor = $("#feedback-window") && $("#feedback-window").closest(".card");
    if (!anchor) return;
    card = el("div", { class: "card", id: "booking-settings" });
    anchor.after(card);
  }
  card.replaceChildren(el("h2", { text: s("title") }),
    ...FIELDS.map(([name, min, max]) => el("label", { class: "field" }, el("span", { text: s(name) }),
      el("input", { id: "bk-" + name, type: "number", min, max, value: office[name] }))),
    el("p", { class: "hint" }, s("page") + " ", el("a", { id: "bk-link", href: `/book?office_id=${office.id}`, target: "_blank",
      text: `${location.origin}/book?office_id=${office.id}` })),
    el("p", { class: "hint", text: s("note") }),
    el("div", { class: "row" }, el("button", { type: "button", id: "bk-save", text: s("save"), onclick: () => save(office) }),
      el("span", { class: "hint", id: "bk-msg", role: "status" })));
}

async function save(office) {
  const body = {};
  for (const [name] of FIELDS) body[name] = Number($("#bk-" + name).value);
  try {
    Object.assign(office, await patch(`/api/v1/offices/${office.id}`, body));
    $("#bk-msg").textContent = s("saved");
  } catch (e) {
    $("#bk-msg").textContent = e instanceof ApiError ? e.message : String(e);
  }
}
