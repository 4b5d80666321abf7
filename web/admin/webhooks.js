// Outbound events (webhooks) in the admin page: add one (URL, events, secret), list them, see each one's
// deliveries with their status, send a failed one again, pause or delete. Its own small dictionary,
// so admin.js only hands it the office id. Public API only.
import { ApiError, del, get, patch, post } from "/static/shared/api.js";
import { clear, el } from "/static/shared/dom.js";
import { getLang } from "/static/shared/i18n.js";

export const EVENT_TYPES = ["ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show", "ticket.cancelled",
  "ticket.transferred", "dossier.linked", "feedback.received", "appointment.booked", "appointment.checked_in",
  "appointment.cancelled"];

const DICT = {
  vi: {
    title: "Gửi sự kiện (webhook)", intro: "Hệ thống một cửa của tỉnh nhận các sự kiện đã chọn ngay khi xảy ra, ký bằng khoá bí mật (X-QMS-Signature).",
    add_title: "Thêm webhook", url: "Địa chỉ nhận (http:// hoặc https://)", events: "Sự kiện gửi đi", secret: "Khoá bí mật (16–256 ký tự, không hiển thị lại)",
    add: "Thêm", added: "Đã thêm webhook.", none: "Chưa có webhook nào.", active: "Đang gửi", paused: "Tạm dừng",
    pause: "Tạm dừng", resume: "Tiếp tục", remove: "Xoá", remove_sure: "Xác nhận xoá?", removed: "Đã xoá webhook.",
    deliveries: "Lần gửi", show: "Xem lần gửi", hide: "Ẩn", seq: "Số thứ tự", type: "Sự kiện", status: "Trạng thái",
    attempts: "Số lần thử", last_error: "Lỗi gần nhất", next_attempt: "Thử lại lúc", delivered_at: "Đã nhận lúc",
    retry: "Gửi lại", retried: "Sẽ gửi lại ngay.", no_deliveries: "Chưa có lần gửi nào.",
    st_pending: "Đang chờ gửi", st_delivered: "Đã nhận", st_failed: "Thất bại", pick_event: "Chọn ít nhất một sự kiện.",
    created: "Tạo lúc", col_url: "Địa chỉ nhận",
  },
  en: {
    title: "Outbound events (webhooks)", intro: "The province's one-stop system receives the chosen events as they happen, signed with the secret (X-QMS-Signature).",
    add_title: "Add a webhook", url: "Receiver URL (http:// or https://)", events: "Events to send", secret: "Secret (16–256 characters, never shown again)",
    add: "Add", added: "Webhook added.", none: "No webhooks yet.", active: "Sending", paused: "Paused",
    pause: "Pause", resume: "Resume", remove: "Delete", remove_sure: "Really delete?", removed: "Webhook deleted.",
    deliveries: "Deliveries", show: "Show deliveries", hide: "Hide", seq: "Seq", type: "Event", status: "Status",
    attempts: "Attempts", last_error: "Last error", next_attempt: "Next attempt", delivered_at: "Delivered at",
    retry: "Send again", retried: "Will be sent again now.", no_deliveries: "No deliveries yet.",
    st_pending: "Pending", st_delivered: "Delivered", st_failed: "Failed", pick_event: "Choose at least one event.",
    created: "Created", col_url: "Receiver",
  },
};
const tw = (key) => (DICT[getLang()] || DICT.vi)[key] ?? DICT.vi[key] ?? key;
const when = (iso) => (iso ? iso.replace("T", " ").slice(0, 19) : "—");
const W = { officeId: null, open: null };

function note(box, text, kind = "ok") { const n = box.querySelector(".wh-note"); n.textContent = text; n.dataset.kind = kind; }
function errText(e) {
  if (e instanceof ApiError) {
    const errs = e.details && e.details.errors;
    return errs && errs.length ? errs.map((x) => `${x.field}: ${x.message}`).join("; ") : e.message;
  }
  return String(e);
}

export async function loadWebhooks(officeId, box = document.getElementById("tab-webhooks")) {
  if (W.officeId !== officeId) { W.officeId = officeId; W.open = null; }
  const hooks = (await get(`/api/v1/offices/${officeId}/webhooks`)).items;
  clear(box);
  box.append(el("div", { class: "tab-head" }, el("h2", { text: tw("title") })),
    el("p", { class: "hint", text: tw("intro") }),
    el("p", { class: "flash wh-note", role: "status" }),
    addForm(box, officeId));
  if (!hooks.length) { box.append(el("p", { class: "hint wh-none", text: tw("none") })); return; }
  const body = el("tbody", { id: "webhooks-body" });
  box.append(el("table", { class: "grid webhooks" },
    el("thead", {}, el("tr", {}, el("th", { text: tw("col_url") }), el("th", { text: tw("events") }), el("th", { text: tw("status") }),
      el("th", { text: tw("created") }), el("th"))), body));
  for (const h of hooks) {
    body.append(el("tr", { "data-webhook": h.id, class: h.active ? null : "inactive" },
      el("td", { class: "mono", text: h.url }),
      el("td", { class: "small", text: h.events.join(", ") }),
      el("td", {}, el("span", { class: "pill " + (h.active ? "on" : "off"), text: h.active ? tw("active") : tw("paused") })),
      el("td", { text: when(h.created_at) }),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "secondary small wh-show", text: W.open === h.id ? tw("hide") : tw("show"),
          onclick: () => { W.open = W.open === h.id ? null : h.id; loadWebhooks(officeId, box).catch((e) => note(box, errText(e), "error")); } }),
        el("button", { type: "button", class: "secondary small wh-toggle", text: h.active ? tw("pause") : tw("resume"),
          onclick: () => act(box, officeId, () => patch(`/api/v1/webhooks/${h.id}`, { active: !h.active })) }),
        removeButton(box, officeId, h))));
    if (W.open === h.id) {
      const cell = el("td", { colspan: 5, class: "wh-deliveries" });
      body.append(el("tr", { "data-deliveries": h.id }, cell));
      await fillDeliveries(box, officeId, h, cell);
    }
  }
}

function removeButton(box, officeId, h) {
  const b = el("button", { type: "button", class: "danger small wh-remove", text: tw("remove") });
  b.addEventListener("click", () => {
    if (!b.dataset.sure) { b.dataset.sure = "1"; b.textContent = tw("remove_sure"); return; }
    act(box, officeId, () => del(`/api/v1/webhooks/${h.id}`), tw("removed"));
  });
  return b;
}

async function act(box, officeId, fn, done) {
  try {
    await fn();
    await loadWebhooks(officeId, box);
    if (done) note(box, done);
  } catch (e) { note(box, errText(e), "error"); }
}

function addForm(box, officeId) {
  const url = el("input", { id: "wh-url", type: "url", maxlength: 500, required: true, placeholder: "https://motcua.example.gov.vn/qms" });
  const secret = el("input", { id: "wh-secret", type: "password", minlength: 16, maxlength: 256, required: true, autocomplete: "new-password" });
  const checks = EVENT_TYPES.map((type) => el("label", { class: "chip" },
    el("input", { type: "checkbox", value: type, checked: type.startsWith("ticket.") || type === "dossier.linked" || type === "feedback.received" ? true : null }),
    el("span", { text: type })));
  const form = el("form", { class: "card wh-add", id: "webhook-form" },
    el("h3", { text: tw("add_title") }),
    el("label", { class: "field" }, el("span", { text: tw("url") }), url),
    el("div", { class: "field" }, el("span", { text: tw("events") }), el("div", { class: "weekdays wh-events" }, checks)),
    el("label", { class: "field" }, el("span", { text: tw("secret") }), secret),
    el("button", { type: "submit", id: "wh-add", text: tw("add") }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const events = checks.map((c) => c.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    if (!events.length) { note(box, tw("pick_event"), "error"); return; }
    try {
      await post(`/api/v1/offices/${officeId}/webhooks`, { url: url.value.trim(), events, secret: secret.value });
      await loadWebhooks(officeId, box);
      note(box, tw("added"));
    } catch (e) { note(box, errText(e), "error"); }
  });
  return form;
}

async function fillDeliveries(box, officeId, h, cell) {
  const items = (await get(`/api/v1/webhooks/${h.id}/deliveries?limit=50`)).items;
  if (!items.length) { cell.append(el("p", { class: "hint", text: tw("no_deliveries") })); return; }
  const rows = items.map((d) => el("tr", { "data-delivery": d.id, "data-status": d.status },
    el("td", { text: d.event_seq }), el("td", { text: d.type }),
    el("td", {}, el("span", { class: "pill " + (d.status === "delivered" ? "on" : "off") + (d.status === "failed" ? " failed" : ""),
      text: tw("st_" + d.status) })),
    el("td", { text: d.attempts }), el("td", { class: "small", text: d.last_error || "—" }),
    el("td", { text: when(d.next_attempt_at) }), el("td", { text: when(d.delivered_at) }),
    el("td", { class: "actions" }, d.status === "failed"
      ? el("button", { type: "button", class: "small wh-retry", text: tw("retry"),
        onclick: () => act(box, officeId, () => post(`/api/v1/webhooks/${h.id}/deliveries/${d.id}/retry`), tw("retried")) })
      : null)));
  cell.append(el("h3", { text: tw("deliveries") }), el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, ["seq", "type", "status", "attempts", "last_error", "next_attempt", "delivered_at", ""].map(
      (k) => el("th", { text: k ? tw(k) : "" })))),
    el("tbody", {}, rows)));
}
