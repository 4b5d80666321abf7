// Office administration for heads and admins: settings and programmes, services, counters, users,
// devices (approve a pairing code, see who is online, revoke) and printers. Public API only.
import { ApiError, del, get, patch, post } from "/static/shared/api.js";
import { getToken, setToken } from "/static/shared/auth.js";
import { $, clear, el } from "/static/shared/dom.js";
import { apply, getLang, setDictionary, setLang, t } from "/static/shared/i18n.js";
import { LiveSocket } from "/static/shared/ws.js";
import { logOut, wireLoginForm } from "/static/shared/staff.js";
import { loadWebhooks } from "/static/admin/webhooks.js";
import { renderBookingSettings } from "/static/admin/booking.js";

setDictionary({
  vi: {
    app_title: "Quản trị đơn vị", login_title: "Đăng nhập quản trị", username: "Tên đăng nhập", password: "Mật khẩu",
    login: "Đăng nhập", logout: "Đăng xuất", tab_settings: "Cài đặt đơn vị", tab_services: "Dịch vụ", tab_counters: "Quầy",
    tab_users: "Cán bộ", tab_devices: "Thiết bị", tab_printers: "Máy in", tab_webhooks: "Gửi sự kiện", sec_hours: "Giờ cấp số",
    always_open: "Luôn mở (không giới hạn giờ)", hours_hint: "Mỗi ngày: các khung giờ cách nhau bằng dấu phẩy, ví dụ 07:30-11:30, 13:00-16:30. Để trống = nghỉ.",
    sec_sessions: "Buổi làm việc ngoài giờ", sessions_hint: "Mỗi dòng: ngày giờ-bắt-đầu-giờ-kết-thúc nhãn, ví dụ 2026-11-28 18:00-21:00 Buổi tối.",
    sec_programmes: "Chương trình", no_wait_days: "Ngày không chờ (thứ trong tuần)", no_wait_dates: "Ngày không chờ (ngày cụ thể)",
    no_wait_target: "Chỉ tiêu chờ ngày không chờ (phút)", sec_calling: "Gọi số", priority_policy: "Ưu tiên",
    pp_strict: "Gọi ưu tiên trước", pp_interleave: "Xen kẽ", interleave_every: "Xen kẽ: 1 số ưu tiên sau mỗi N số",
    routing: "Thứ tự phục vụ", routing_fifo: "Ai đến trước gọi trước", routing_ordered: "Theo thứ tự dịch vụ của quầy",
    number_format: "Định dạng số", sec_rating: "Đánh giá và thông báo", rating_scale: "Thang đánh giá",
    sec_dossiers: "Hồ sơ một cửa", dossier_pattern: "Định dạng mã hồ sơ (biểu thức chính quy)",
    ask_trips: "Máy đánh giá hỏi thêm số lần phải đi lại",
    lookup_url: "Địa chỉ tra cứu kết quả hồ sơ",
    lookup_url_hint: "Để trống = tắt. http(s)://… (dịch vụ tra cứu của tỉnh, trả JSON) hoặc file:///… (tệp CSV tỉnh xuất ra).",
    refused: "Không lưu được",
    feedback_window: "Thời hạn đánh giá sau khi phục vụ (phút)", template: "Mẫu câu thông báo", repeat: "Số lần đọc",
    listen: "Nghe thử", save: "Lưu", saved: "Đã lưu.", add_service: "Thêm dịch vụ", add_counter: "Thêm quầy",
    add_user: "Thêm cán bộ", add_printer: "Thêm máy in", code: "Mã", name: "Tên", name_en: "Tên tiếng Anh", desk: "Bộ phận",
    target_wait: "Chờ tối đa", target_total: "Tổng thời gian tối đa (phút)", target_wait_min: "Thời gian chờ tối đa (phút)",
    state: "Trạng thái", number: "Số", services_order: "Dịch vụ (theo thứ tự)", full_name: "Họ tên", role: "Vai trò",
    approve_title: "Duyệt thiết bị mới", pair_code: "Mã ghép nối (6 số)", device_name: "Tên thiết bị",
    counter_for_tablet: "Quầy (máy tính bảng)", printer_for_kiosk: "Máy in (kiosk)", approve: "Duyệt", kind: "Loại",
    linked: "Gắn với", online: "Kết nối", last_seen: "Lần cuối", transport: "Kết nối", address: "Địa chỉ", paper: "Giấy",
    printers_missing: "Máy chủ này chưa có chức năng quản lý máy in.", cancel: "Huỷ", edit: "Sửa",
    deactivate: "Ngừng", activate: "Kích hoạt", active: "Đang hoạt động", inactive: "Ngừng hoạt động",
    desk_standard: "Thường", desk_do_it_now: "Bộ phận làm ngay", role_head: "Lãnh đạo", role_clerk: "Cán bộ",
    role_admin: "Quản trị", reset_password: "Đặt lại mật khẩu", new_password: "Mật khẩu mới (ít nhất 8 ký tự)",
    revoke: "Thu hồi", revoke_q: "Thu hồi thiết bị “{name}”? Thiết bị sẽ bị ngắt kết nối ngay.", confirm: "Xác nhận",
    is_online: "Trực tuyến", is_offline: "Mất kết nối", never_seen: "Chưa kết nối lần nào", seen_now: "vừa xong",
    seen_min: "{n} phút trước", seen_h: "{n} giờ trước", none: "—", counter_n: "Quầy {n}", remove: "Xoá",
    add: "Thêm", up: "Lên", down: "Xuống", approved: "Đã duyệt thiết bị “{name}”.", revoked: "Đã thu hồi “{name}”.",
    k_kiosk: "Máy lấy số", k_display: "Màn hình", k_tablet: "Máy tính bảng", k_printer: "Máy in (agent)",
    width: "Khổ giấy", mode: "Chế độ in", deactivate_user_q: "Ngừng tài khoản “{name}”?", not_head: "Chỉ lãnh đạo hoặc quản trị viên dùng trang này.",
    login_failed: "Sai tên đăng nhập hoặc mật khẩu.", offline: "Mất kết nối – đang thử lại…", playing: "Đang phát…",
    new_service: "Dịch vụ mới", new_counter: "Quầy mới", new_user: "Cán bộ mới", new_printer: "Máy in mới",
    remove_printer_q: "Xoá máy in “{name}”?", paper_ok: "Đủ", paper_near_end: "Sắp hết", paper_out: "Hết", paper_unknown: "?",
    wd_mon: "T2", wd_tue: "T3", wd_wed: "T4", wd_thu: "T5", wd_fri: "T6", wd_sat: "T7", wd_sun: "CN",
    daily_limit: "Giới hạn số/ngày", bookable: "Nhận đặt lịch hẹn", booking_per_slot: "Số lịch hẹn mỗi khung giờ", number_start: "Số bắt đầu", min: "phút",
  },
  en: {
    app_title: "Office administration", login_title: "Administration login", username: "Username", password: "Password",
    login: "Log in", logout: "Log out", tab_settings: "Office settings", tab_services: "Services", tab_counters: "Counters",
    tab_users: "Staff", tab_devices: "Devices", tab_printers: "Printers", tab_webhooks: "Outbound events", sec_hours: "Ticket-issuing hours",
    always_open: "Always open (no hours)", hours_hint: "Per day: windows separated by commas, e.g. 07:30-11:30, 13:00-16:30. Empty = closed.",
    sec_sessions: "After-hours sessions", sessions_hint: "One per line: date start-end label, e.g. 2026-11-28 18:00-21:00 Evening.",
    sec_programmes: "Programmes", no_wait_days: "No-wait days (weekdays)", no_wait_dates: "No-wait days (dates)",
    no_wait_target: "No-wait wait target (min)", sec_calling: "Calling", priority_policy: "Priority",
    pp_strict: "Priority first", pp_interleave: "Interleave", interleave_every: "Interleave: one priority after every N",
    routing: "Routing", routing_fifo: "Oldest first", routing_ordered: "Counter's service order first",
    number_format: "Number format", sec_rating: "Ratings and announcements", rating_scale: "Rating scale",
    sec_dossiers: "One-stop dossiers", dossier_pattern: "Dossier code shape (regular expression)",
    ask_trips: "The rating tablet also asks how many trips the visit took",
    lookup_url: "Dossier result look-up address",
    lookup_url_hint: "Empty = off. http(s)://… (the province's look-up service, answering JSON) or file:///… (a CSV file the province exports).",
    refused: "Not saved",
    feedback_window: "Rating window after service (min)", template: "Announcement template", repeat: "Times spoken",
    listen: "Listen", save: "Save", saved: "Saved.", add_service: "Add service", add_counter: "Add counter",
    add_user: "Add staff", add_printer: "Add printer", code: "Code", name: "Name", name_en: "English name", desk: "Desk",
    target_wait: "Wait target", target_total: "Issue-to-finish target (min)", target_wait_min: "Wait target (min)",
    state: "State", number: "No.", services_order: "Services (in order)", full_name: "Full name", role: "Role",
    approve_title: "Approve a new device", pair_code: "Pairing code (6 digits)", device_name: "Device name",
    counter_for_tablet: "Counter (tablets)", printer_for_kiosk: "Printer (kiosks)", approve: "Approve", kind: "Kind",
    linked: "Linked to", online: "Connection", last_seen: "Last seen", transport: "Transport", address: "Address", paper: "Paper",
    printers_missing: "This server has no printer management yet.", cancel: "Cancel", edit: "Edit",
    deactivate: "Deactivate", activate: "Activate", active: "Active", inactive: "Inactive",
    desk_standard: "Standard", desk_do_it_now: "Do-it-now desk", role_head: "Head", role_clerk: "Clerk", role_admin: "Admin",
    reset_password: "Reset password", new_password: "New password (8+ characters)", revoke: "Revoke",
    revoke_q: "Revoke device “{name}”? It is disconnected at once.", confirm: "Confirm", is_online: "Online",
    never_seen: "Never connected", seen_now: "just now", seen_min: "{n} min ago", seen_h: "{n} h ago",
    is_offline: "Offline", none: "—", counter_n: "Counter {n}", remove: "Remove", add: "Add", up: "Up", down: "Down",
    approved: "Device “{name}” approved.", revoked: "“{name}” revoked.", k_kiosk: "Kiosk", k_display: "Display",
    k_tablet: "Tablet", k_printer: "Printer agent", width: "Paper width", mode: "Print mode",
    deactivate_user_q: "Deactivate “{name}”?", not_head: "Only heads and admins use this page.",
    login_failed: "Wrong username or password.", offline: "Connection lost – retrying…", playing: "Playing…",
    new_service: "New service", new_counter: "New counter", new_user: "New staff member", new_printer: "New printer",
    remove_printer_q: "Remove printer “{name}”?", paper_ok: "OK", paper_near_end: "Near end", paper_out: "Out", paper_unknown: "?",
    wd_mon: "Mon", wd_tue: "Tue", wd_wed: "Wed", wd_thu: "Thu", wd_fri: "Fri", wd_sat: "Sat", wd_sun: "Sun",
    daily_limit: "Daily limit", bookable: "Takes appointments", booking_per_slot: "Bookings per slot", number_start: "First number", min: "min",
  },
});

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const S = { me: null, officeId: null, office: null, services: [], counters: [], printers: null, tab: "settings", socket: null, timer: null };

function flash(text, kind = "ok") { const f = $("#flash"); f.textContent = text; f.dataset.kind = kind; }
function errText(e) {
  if (e instanceof ApiError) {
    const errs = e.details && e.details.errors;
    return errs && errs.length ? errs.map((x) => `${x.field}: ${x.message}`).join("; ") : e.message;
  }
  return String(e);
}
const svcLabel = (s) => `${s.code} – ${getLang() === "en" && s.name_en ? s.name_en : s.name}`;

// ---- the edit dialog: fields built from a small spec, saved by a callback that may refuse
function field(spec, value) {
  const id = "f-" + spec.name;
  let input;
  if (spec.type === "select") {
    input = el("select", { id, name: spec.name }, spec.options.map(([v, label]) =>
      el("option", { value: v, selected: String(v) === String(value ?? "") ? true : null, text: label })));
  } else if (spec.type === "checkbox") {
    input = el("input", { id, name: spec.name, type: "checkbox", checked: value ? true : null });
  } else if (spec.type === "order") {
    return orderField(spec, value || []);
  } else {
    input = el("input", { id, name: spec.name, type: spec.type || "text", value: value ?? "", required: spec.required || null,
      maxlength: spec.maxlength || null, min: spec.min ?? null, max: spec.max ?? null, placeholder: spec.placeholder || null });
  }
  const wrap = el("label", { class: spec.type === "checkbox" ? "check" : "field" }, el("span", { text: spec.label }), input);
  wrap.read = () => {
    if (spec.type === "checkbox") return input.checked;
    if (spec.type === "number") return input.value === "" ? null : Number(input.value);
    if (spec.type === "select" && spec.numeric) return input.value === "" ? null : Number(input.value);
    return input.value.trim();
  };
  return wrap;
}

function orderField(spec, initial) {  // an ordered list of ids with up / down / remove, and an "add" select
  let ids = [...initial];
  const list = el("ol", { class: "order-list", id: "f-" + spec.name });
  const adder = el("select", { class: "order-add", "aria-label": t("add") });
  const wrap = el("div", { class: "field" }, el("span", { text: spec.label }), list,
    el("div", { class: "row" }, adder, el("button", { type: "button", class: "secondary small", text: t("add"),
      onclick: () => { const v = Number(adder.value); if (v && !ids.includes(v)) { ids.push(v); render(); } } })));
  function render() {
    clear(list);
    ids.forEach((id, i) => {
      const opt = spec.options.find(([v]) => v === id);
      list.append(el("li", { "data-id": id }, el("span", { text: opt ? opt[1] : String(id) }),
        el("button", { type: "button", class: "secondary tiny", title: t("up"), text: "↑", disabled: i === 0 ? true : null,
          onclick: () => { [ids[i - 1], ids[i]] = [ids[i], ids[i - 1]]; render(); } }),
        el("button", { type: "button", class: "secondary tiny", title: t("down"), text: "↓", disabled: i === ids.length - 1 ? true : null,
          onclick: () => { [ids[i + 1], ids[i]] = [ids[i], ids[i + 1]]; render(); } }),
        el("button", { type: "button", class: "secondary tiny", title: t("remove"), text: "✕",
          onclick: () => { ids = ids.filter((x) => x !== id); render(); } })));
    });
    clear(adder);
    for (const [v, label] of spec.options) if (!ids.includes(v)) adder.append(el("option", { value: v, text: label }));
  }
  render();
  wrap.read = () => [...ids];
  return wrap;
}

function editDialog(title, specs, values, onSave, saveLabel) {
  $("#edit-title").textContent = title;
  const box = clear($("#edit-fields"));
  const inputs = specs.map((s) => { const f = field(s, values[s.name]); f.dataset.name = s.name; box.append(f); return [s.name, f]; });
  $("#edit-error").textContent = "";
  $("#edit-save").textContent = saveLabel || t("save");
  const dialog = $("#edit-dialog");
  dialog.onsave = async () => {
    const out = {};
    for (const [name, f] of inputs) out[name] = f.read();
    $("#edit-save").disabled = true;
    try {
      await onSave(out);
      dialog.close();
    } catch (e) {
      $("#edit-error").textContent = errText(e);
    } finally {
      $("#edit-save").disabled = false;
    }
  };
  dialog.showModal();
  const first = box.querySelector("input, select");
  if (first) first.focus();
}
const confirmDialog = (question, onYes) => editDialog(question, [], {}, onYes, t("confirm"));

// ---- login, office choice
async function boot() {
  apply();
  $("#lang-toggle").textContent = getLang() === "vi" ? "EN" : "VI";
  if (!getToken()) return showLogin();
  try { S.me = await get("/api/v1/auth/me"); } catch { setToken(null); return showLogin(); }
  if (!["head", "admin"].includes(S.me.kind)) { setToken(null); $("#login-error").textContent = t("not_head"); return showLogin(); }
  $("#who").textContent = S.me.full_name || S.me.username;
  $("#logout").classList.remove("hidden");
  const offices = (await get("/api/v1/offices")).items;
  const select = clear($("#office-select"));
  for (const o of offices) select.append(el("option", { value: o.id, text: o.name }));
  select.classList.toggle("hidden", offices.length < 2);
  const saved = Number(localStorage.getItem("qms.admin.office") || 0);
  S.officeId = S.me.office_id || (offices.find((o) => o.id === saved) || offices[0] || {}).id;
  if (!S.officeId) return flash("No office", "error");
  select.value = String(S.officeId);
  $("#view-login").classList.add("hidden");
  $("#view-admin").classList.remove("hidden");
  await loadOffice();
  showTab(S.tab);
  startSocket();
}
function showLogin() { $("#view-login").classList.remove("hidden"); $("#view-admin").classList.add("hidden"); $("#logout").classList.add("hidden"); }

async function loadOffice() {
  const id = S.officeId;
  const [office, services, counters] = await Promise.all([get(`/api/v1/offices/${id}`),
    get(`/api/v1/offices/${id}/services`), get(`/api/v1/offices/${id}/counters`)]);
  S.office = office; S.services = services.items; S.counters = counters.items;
  $("#office-title").textContent = office.name;
  fillSettings();
  renderBookingSettings(office);  // appointments (booking.js)
}

function startSocket() {
  if (S.socket) S.socket.stop();
  S.socket = new LiveSocket({
    token: getToken(), officeId: S.officeId,
    onEvent: (msg) => {
      if (msg.type === "device.status" && S.tab === "devices") later(loadDevices);
      if (msg.type === "counter.updated" && S.tab === "counters") later(loadCounters);
    },
    onStatus: (s) => {
      document.body.classList.toggle("offline", s === "offline");
      if (s === "unauthorized") { setToken(null); showLogin(); }
    },
  });
  S.socket.start();
}
function later(fn) { clearTimeout(S.timer); S.timer = setTimeout(() => fn().catch(() => {}), 200); }

function showTab(name) {
  S.tab = name;
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((s) => s.classList.toggle("hidden", s.id !== "tab-" + name));
  flash("");
  const loaders = { settings: loadOffice, services: loadServices, counters: loadCounters, users: loadUsers,
    devices: loadDevices, printers: loadPrinters, webhooks: () => loadWebhooks(S.officeId) };
  loaders[name]().catch((e) => flash(errText(e), "error"));
}

// ---- settings
function fillSettings() {
  const o = S.office;
  $("#always-open").checked = o.opening_hours === null;
  const hours = clear($("#hours"));
  for (const d of WEEKDAYS) {
    const windows = (o.opening_hours && o.opening_hours[d]) || [];
    hours.append(el("label", { class: "day" }, el("span", { text: t("wd_" + d) }),
      el("input", { id: "hours-" + d, value: windows.map((w) => w.join("-")).join(", "), placeholder: "07:30-11:30, 13:00-16:30" })));
  }
  hours.classList.toggle("disabled", $("#always-open").checked);
  $("#extra-sessions").value = (o.extra_sessions || []).map((s) => `${s.date} ${s.start}-${s.end}${s.label ? " " + s.label : ""}`).join("\n");
  const wd = clear($("#no-wait-weekdays"));
  for (const d of WEEKDAYS) {
    wd.append(el("label", { class: "chip" }, el("input", { type: "checkbox", value: d, id: "nw-" + d,
      checked: (o.no_wait_days || []).includes(d) ? true : null }), el("span", { text: t("wd_" + d) })));
  }
  $("#no-wait-dates").value = (o.no_wait_days || []).filter((d) => !WEEKDAYS.includes(d)).join(", ");
  $("#no-wait-target").value = o.no_wait_target_min;
  $("#priority-policy").value = o.priority_policy;
  $("#interleave-every").value = o.interleave_every;
  $("#routing").value = o.routing;
  $("#number-format").value = o.number_format;
  $("#rating-scale").value = String(o.rating_scale);
  $("#feedback-window").value = o.feedback_window_min;
  $("#template").value = o.announcement_template || "";
  $("#repeat").value = o.announcement_repeat;
  $("#dossier-pattern").value = o.dossier_code_pattern || "";
  $("#lookup-url").value = o.dossier_lookup_url || "";
  $("#ask-trips").checked = !!o.ask_trips;
}

function parseWindows(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean).map((w) => w.split("-").map((x) => x.trim()));
}
function readSettings() {
  const body = {};
  if ($("#always-open").checked) body.opening_hours = null;
  else {
    body.opening_hours = {};
    for (const d of WEEKDAYS) body.opening_hours[d] = parseWindows($("#hours-" + d).value);
  }
  body.extra_sessions = $("#extra-sessions").value.split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
    const [date, range, ...label] = line.split(/\s+/);
    const [start, end] = (range || "").split("-");
    return { date, start, end, label: label.join(" ") || null };
  });
  body.no_wait_days = [...WEEKDAYS.filter((d) => $("#nw-" + d).checked),
    ...$("#no-wait-dates").value.split(",").map((s) => s.trim()).filter(Boolean)];
  body.no_wait_target_min = Number($("#no-wait-target").value);
  body.priority_policy = $("#priority-policy").value;
  body.interleave_every = Number($("#interleave-every").value);
  body.routing = $("#routing").value;
  body.number_format = $("#number-format").value.trim();
  body.rating_scale = Number($("#rating-scale").value);
  body.feedback_window_min = Number($("#feedback-window").value);
  const template = $("#template").value.trim();
  if (template) body.announcement_template = template;
  body.announcement_repeat = Number($("#repeat").value);
  const pattern = $("#dossier-pattern").value.trim();
  if (pattern) body.dossier_code_pattern = pattern;
  body.dossier_lookup_url = $("#lookup-url").value.trim() || null;  // empty: no look-up
  body.ask_trips = $("#ask-trips").checked;
  return body;
}
// settings fields the server may name in a refusal (details.field): marked and focused, labelled in the message
const SETTING_INPUTS = { dossier_code_pattern: ["dossier-pattern", "dossier_pattern"],
  dossier_lookup_url: ["lookup-url", "lookup_url"] };
async function saveSettings(ev) {
  ev.preventDefault();
  $("#save-settings").disabled = true;
  for (const [id] of Object.values(SETTING_INPUTS)) $("#" + id).removeAttribute("aria-invalid");
  try {
    S.office = await patch(`/api/v1/offices/${S.officeId}`, readSettings());
    fillSettings();
    flash(t("saved"));
  } catch (e) {
    const named = e instanceof ApiError && SETTING_INPUTS[e.details.field];
    if (named) {
      $("#" + named[0]).setAttribute("aria-invalid", "true");
      $("#" + named[0]).focus();
      flash(`${t("refused")} – ${t(named[1])}: ${errText(e)}`, "error");
    } else flash(errText(e), "error");
  } finally {
    $("#save-settings").disabled = false;
  }
}
async function listen() {  // the template with a sample number, as the lobby would say it
  const template = $("#template").value.trim() || "Xin mời công dân có số {number} đến quầy số {counter}";
  const text = template.replaceAll("{number}", "A023").replaceAll("{counter}", "5");
  $("#listen-note").textContent = t("playing");
  try {
    const res = await fetch("/api/v1/voice/preview?" + new URLSearchParams({ text, lang: "vi" }),
      { headers: { Authorization: "Bearer " + getToken() } });
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    const audio = new Audio(URL.createObjectURL(await res.blob()));
    audio.onended = () => { $("#listen-note").textContent = ""; };
    await audio.play();
    $("#listen-note").textContent = text;
  } catch (e) {
    $("#listen-note").textContent = errText(e);
  }
}

// ---- services
const deskOptions = () => [["standard", t("desk_standard")], ["do_it_now", t("desk_do_it_now")]];
async function loadServices() {
  S.services = (await get(`/api/v1/offices/${S.officeId}/services`)).items;
  const body = clear($("#services-body"));
  for (const s of S.services) {
    body.append(el("tr", { "data-service": s.id, class: s.active ? "" : "inactive" },
      el("td", { class: "code", text: s.code }),
      el("td", {}, el("div", { text: s.name }), s.name_en ? el("div", { class: "hint", text: s.name_en }) : null),
      el("td", { text: t("desk_" + s.desk) + (s.desk === "do_it_now" ? ` (${s.target_total_min} ${t("min")})` : "") }),
      el("td", { text: `${s.target_wait_min} ${t("min")}` }),
      el("td", {}, el("span", { class: "pill " + (s.active ? "on" : "off"), text: s.active ? t("active") : t("inactive") })),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "secondary small", text: t("edit"), onclick: () => editService(s) }),
        el("button", { type: "button", class: "secondary small", text: s.active ? t("deactivate") : t("activate"),
          onclick: async () => { try { await patch(`/api/v1/services/${s.id}`, { active: !s.active }); await loadServices(); } catch (e) { flash(errText(e), "error"); } } }))));
  }
}
function editService(s) {
  const specs = [
    { name: "code", label: t("code"), required: true, maxlength: 3 }, { name: "name", label: t("name"), required: true },
    { name: "name_en", label: t("name_en") }, { name: "desk", label: t("desk"), type: "select", options: deskOptions() },
    { name: "target_wait_min", label: t("target_wait_min"), type: "number", min: 1, max: 600 },
    { name: "target_total_min", label: t("target_total"), type: "number", min: 1, max: 1440 },
    { name: "number_start", label: t("number_start"), type: "number", min: 0 },
    { name: "daily_limit", label: t("daily_limit"), type: "number", min: 1 },
    { name: "bookable", label: t("bookable"), type: "checkbox" },
    { name: "booking_per_slot", label: t("booking_per_slot"), type: "number", min: 1, max: 100 },
  ];
  editDialog(s ? svcLabel(s) : t("new_service"), specs, s || { desk: "standard", target_wait_min: 15, number_start: 1,
    bookable: false, booking_per_slot: 1 }, async (v) => {
    if (!v.name_en) v.name_en = null;
    if (s) await patch(`/api/v1/services/${s.id}`, v);
    else await post(`/api/v1/offices/${S.officeId}/services`, Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null)));
    await loadServices();
  });
}

// ---- counters
async function loadCounters() {
  const [counters, services] = await Promise.all([get(`/api/v1/offices/${S.officeId}/counters`), get(`/api/v1/offices/${S.officeId}/services`)]);
  S.counters = counters.items; S.services = services.items;
  const byId = new Map(S.services.map((s) => [s.id, s]));
  const body = clear($("#counters-body"));
  for (const c of S.counters) {
    body.append(el("tr", { "data-counter": c.id },
      el("td", { class: "code", text: String(c.number) }), el("td", { text: c.name }),
      el("td", { text: t("desk_" + c.desk) }),
      el("td", {}, c.service_ids.map((id) => el("span", { class: "tag", title: (byId.get(id) || {}).name || "", text: (byId.get(id) || {}).code || "?" }))),
      el("td", { text: c.state + (c.clerk ? ` · ${c.clerk.full_name}` : "") }),
      el("td", { class: "actions" }, el("button", { type: "button", class: "secondary small", text: t("edit"), onclick: () => editCounter(c) }))));
  }
}
function editCounter(c) {
  const specs = [
    { name: "number", label: t("number"), type: "number", min: 1, max: 999, required: true },
    { name: "name", label: t("name"), required: true }, { name: "desk", label: t("desk"), type: "select", options: deskOptions() },
    { name: "service_ids", label: t("services_order"), type: "order", options: S.services.map((s) => [s.id, svcLabel(s)]) },
  ];
  editDialog(c ? t("counter_n", { n: c.number }) : t("new_counter"), specs,
    c || { number: (Math.max(0, ...S.counters.map((x) => x.number)) + 1), desk: "standard", service_ids: [] }, async (v) => {
      if (c) await patch(`/api/v1/counters/${c.id}`, v);
      else await post(`/api/v1/offices/${S.officeId}/counters`, v);
      await loadCounters();
    });
}

// ---- users
async function loadUsers() {
  const users = (await get(`/api/v1/offices/${S.officeId}/users`)).items;
  const body = clear($("#users-body"));
  for (const u of users) {
    body.append(el("tr", { "data-user": u.id, class: u.active ? "" : "inactive" },
      el("td", { class: "code", text: u.username }), el("td", { text: u.full_name }), el("td", { text: t("role_" + u.role) }),
      el("td", {}, el("span", { class: "pill " + (u.active ? "on" : "off"), text: u.active ? t("active") : t("inactive") })),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "secondary small", text: t("edit"), onclick: () => editUser(u) }),
        el("button", { type: "button", class: "secondary small", text: t("reset_password"), onclick: () => resetPassword(u) }),
        u.active && u.id !== S.me.id ? el("button", { type: "button", class: "danger small", text: t("deactivate"),
          onclick: () => confirmDialog(t("deactivate_user_q", { name: u.full_name || u.username }), async () => { await del(`/api/v1/users/${u.id}`); await loadUsers(); }) }) : null)));
  }
}
const roleOptions = () => [["clerk", t("role_clerk")], ["head", t("role_head")]];
function editUser(u) {
  if (u) {
    return editDialog(u.username, [{ name: "full_name", label: t("full_name") }, { name: "role", label: t("role"), type: "select", options: roleOptions() }],
      u, async (v) => { await patch(`/api/v1/users/${u.id}`, v); await loadUsers(); });
  }
  editDialog(t("new_user"), [{ name: "username", label: t("username"), required: true }, { name: "full_name", label: t("full_name") },
    { name: "role", label: t("role"), type: "select", options: roleOptions() },
    { name: "password", label: t("new_password"), type: "password", required: true }],
  { role: "clerk" }, async (v) => { await post(`/api/v1/offices/${S.officeId}/users`, v); await loadUsers(); });
}
function resetPassword(u) {
  editDialog(`${t("reset_password")}: ${u.username}`, [{ name: "password", label: t("new_password"), type: "password", required: true }], {},
    async (v) => { await patch(`/api/v1/users/${u.id}`, { password: v.password }); flash(t("saved")); });
}

// ---- devices
// The list is live: device.status events reload it at once, and while the tab is open it is read again
// every few seconds, so "online" and "last seen" follow pings and silent drops without a reload.
const DEVICES_REFRESH_MS = 10000;
function seenText(lastSeen) {
  if (!lastSeen) return t("never_seen");
  const ago = Math.max(0, (Date.now() - Date.parse(lastSeen)) / 1000);
  const when = lastSeen.slice(0, 16).replace("T", " ");
  if (ago < 60) return `${t("seen_now")} (${when.slice(11)})`;
  if (ago < 3600) return `${t("seen_min", { n: Math.floor(ago / 60) })} (${when.slice(11)})`;
  if (ago < 86400) return `${t("seen_h", { n: Math.floor(ago / 3600) })} (${when.slice(11)})`;
  return when;
}
setInterval(() => { if (S.tab === "devices" && !document.hidden && S.officeId) loadDevices().catch(() => {}); },
  DEVICES_REFRESH_MS);
// "Quầy 1" and a name that already says it ("Quầy 1 – Bộ phận làm ngay") are not repeated
function counterTitle(c) {
  const label = t("counter_n", { n: c.number });
  const name = (c.name || "").trim();
  if (!name || name === label) return label;
  return new RegExp(`^(quầy|counter)\\s*(số\\s*)?${c.number}(?!\\d)`, "i").test(name) ? name : `${label} – ${name}`;
}
function fillLinkSelects() {
  const cs = clear($("#approve-counter"));
  cs.append(el("option", { value: "", text: t("none") }));
  for (const c of S.counters) cs.append(el("option", { value: c.id, text: counterTitle(c) }));
  const ps = clear($("#approve-printer"));
  ps.append(el("option", { value: "", text: t("none") }));
  for (const p of S.printers || []) ps.append(el("option", { value: p.id, text: p.name }));
}
async function loadDevices() {
  const [devices, counters] = await Promise.all([get(`/api/v1/offices/${S.officeId}/devices`), get(`/api/v1/offices/${S.officeId}/counters`)]);
  S.counters = counters.items;
  if (S.printers === null) await loadPrinters(false);
  fillLinkSelects();
  const cById = new Map(S.counters.map((c) => [c.id, c]));
  const pById = new Map((S.printers || []).map((p) => [p.id, p]));
  const body = clear($("#devices-body"));
  for (const d of devices.items) {
    const link = d.counter_id ? t("counter_n", { n: (cById.get(d.counter_id) || {}).number ?? d.counter_id })
      : d.printer_id ? (pById.get(d.printer_id) || {}).name || `#${d.printer_id}` : t("none");
    body.append(el("tr", { "data-device": d.id, "data-kind": d.kind },
      el("td", { class: "code", text: d.name }), el("td", { text: t("k_" + d.kind) }), el("td", { text: link }),
      el("td", {}, el("span", { class: "pill " + (d.online ? "on" : "off"), "data-online": d.online ? "1" : "0", text: d.online ? t("is_online") : t("is_offline") })),
      el("td", { class: "hint", title: d.last_seen || "", text: seenText(d.last_seen) }),
      el("td", { class: "actions" }, el("button", { type: "button", class: "danger small revoke", text: t("revoke"),
        onclick: () => confirmDialog(t("revoke_q", { name: d.name }), async () => {
          await del(`/api/v1/devices/${d.id}`);
          flash(t("revoked", { name: d.name }));
          await loadDevices();
        }) }))));
  }
}
async function approve(ev) {
  ev.preventDefault();
  const body = { name: $("#approve-name").value.trim() };
  if ($("#approve-counter").value) body.counter_id = Number($("#approve-counter").value);
  if ($("#approve-printer").value) body.printer_id = Number($("#approve-printer").value);
  $("#approve-btn").disabled = true;
  try {
    const d = await post(`/api/v1/offices/${S.officeId}/pairings/${encodeURIComponent($("#approve-code").value.trim())}/approve`, body);
    flash(t("approved", { name: d.name }));
    $("#approve-form").reset();
    await loadDevices();
  } catch (e) {
    flash(errText(e), "error");
  } finally {
    $("#approve-btn").disabled = false;
  }
}

// ---- printers (degrades when the server has no printer endpoints)
async function loadPrinters(render = true) {
  try {
    S.printers = (await get(`/api/v1/offices/${S.officeId}/printers`)).items;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
      S.printers = [];
      $("#printers-missing").classList.remove("hidden");
      $("#add-printer").disabled = true;
      return;
    }
    throw e;
  }
  if (!render) return;
  const body = clear($("#printers-body"));
  for (const p of S.printers) {
    body.append(el("tr", { "data-printer": p.id },
      el("td", { class: "code", text: p.name }), el("td", { text: p.transport }), el("td", { class: "mono", text: p.address }),
      el("td", { text: t("paper_" + (p.paper || "unknown")) }),
      el("td", {}, el("span", { class: "pill " + (p.online ? "on" : "off"), text: p.online ? t("is_online") : t("is_offline") })),
      el("td", { class: "actions" },
        el("button", { type: "button", class: "secondary small", text: t("edit"), onclick: () => editPrinter(p) }),
        el("button", { type: "button", class: "danger small", text: t("remove"),
          onclick: () => confirmDialog(t("remove_printer_q", { name: p.name }), async () => { await del(`/api/v1/printers/${p.id}`); await loadPrinters(); }) }))));
  }
}
function editPrinter(p) {
  const specs = [
    { name: "name", label: t("name"), required: true },
    { name: "transport", label: t("transport"), type: "select", options: ["network", "usb", "serial", "file", "agent"].map((x) => [x, x]) },
    { name: "address", label: t("address"), required: true, placeholder: "192.168.1.50:9100" },
    { name: "width_px", label: t("width"), type: "select", numeric: true, options: [[576, "80 mm (576)"], [384, "58 mm (384)"]] },
    { name: "mode", label: t("mode"), type: "select", options: [["image", "image"], ["text", "text"]] },
  ];
  editDialog(p ? p.name : t("new_printer"), specs, p || { transport: "network", width_px: 576, mode: "image" }, async (v) => {
    if (p) await patch(`/api/v1/printers/${p.id}`, v);
    else await post(`/api/v1/offices/${S.officeId}/printers`, v);
    await loadPrinters();
  });
}

// ---- wiring
wireLoginForm(boot, errText);
$("#logout").addEventListener("click", async () => {
  if (S.socket) S.socket.stop();
  await logOut();
  showLogin();
});
$("#office-select").addEventListener("change", async () => {
  S.officeId = Number($("#office-select").value);
  localStorage.setItem("qms.admin.office", String(S.officeId));
  S.printers = null;
  await loadOffice();
  showTab(S.tab);
  startSocket();
});
$("#lang-toggle").addEventListener("click", () => {
  setLang(getLang() === "vi" ? "en" : "vi");
  $("#lang-toggle").textContent = getLang() === "vi" ? "EN" : "VI";
  if (S.office) { fillSettings(); showTab(S.tab); }
});
document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
$("#always-open").addEventListener("change", () => $("#hours").classList.toggle("disabled", $("#always-open").checked));
$("#settings-form").addEventListener("submit", saveSettings);
$("#listen").addEventListener("click", listen);
$("#add-service").addEventListener("click", () => editService(null));
$("#add-counter").addEventListener("click", () => editCounter(null));
$("#add-user").addEventListener("click", () => editUser(null));
$("#add-printer").addEventListener("click", () => editPrinter(null));
$("#approve-form").addEventListener("submit", approve);
$("#edit-form").addEventListener("submit", (ev) => { ev.preventDefault(); $("#edit-dialog").onsave(); });
$("#edit-cancel").addEventListener("click", () => $("#edit-dialog").close());
boot();
