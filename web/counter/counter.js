// The clerk's counter app: log in, open a counter, call / recall / start / finish / no-show / transfer,
// the waiting list in calling order, own figures of the day, live over the WebSocket.
// Never a double call: every action button is disabled while a request is in flight, and `next` sends
// the ticket this screen shows as current, so a second tab or a double press gets 409 counter_changed.
import { ApiError, get, post } from "/static/shared/api.js";
import { getToken, setToken } from "/static/shared/auth.js";
import { $, clear, el } from "/static/shared/dom.js";
import { apply, getLang, minutes, setDictionary, setLang, t } from "/static/shared/i18n.js";
import { LiveSocket } from "/static/shared/ws.js";
import { logOut, wireLoginForm } from "/static/shared/staff.js";
import "/static/counter/appointments.js";  // staff check-in of appointments (its own button and dialog)

setDictionary({
  vi: {
    app_title: "Quầy giao dịch", login_title: "Đăng nhập cán bộ", username: "Tên đăng nhập", password: "Mật khẩu",
    login: "Đăng nhập", logout: "Đăng xuất", switch_counter: "Đổi quầy", choose_title: "Chọn quầy làm việc",
    current: "Số hiện tại", recall: "Gọi lại", start: "Bắt đầu", finish: "Hoàn thành", no_show: "Vắng mặt",
    transfer: "Chuyển", next: "Gọi số tiếp theo", served_today: "Đã phục vụ hôm nay",
    avg_service: "TB thời gian phục vụ", waiting_mine: "Đang chờ quầy này", pause: "Tạm dừng", resume: "Tiếp tục",
    close_counter: "Đóng quầy", waiting_list: "Danh sách chờ", col_number: "Số", col_service: "Dịch vụ",
    col_wait: "Đã chờ", no_one_waiting: "Không có ai đang chờ.", call: "Gọi",
    shortcuts: "Phím tắt: Space/G gọi số tiếp theo · L gọi lại · B bắt đầu · H hoàn thành · V vắng mặt · C chuyển",
    confirm_next: "Số {n} đang được phục vụ. Bấm Gọi số tiếp theo lần nữa (trong 5 giây) để hoàn thành số này và gọi số tiếp.",
    confirm_next_label: "Bấm lần nữa: xong {n}, gọi tiếp", now_waiting: "Có {n} người đang chờ quầy này.",
    seconds: "{n} giây",
    transfer_title: "Chuyển số", to_service: "Sang dịch vụ", to_counter: "Sang quầy", note: "Ghi chú",
    cancel: "Huỷ", confirm_transfer: "Chuyển", offline: "Mất kết nối – đang thử lại…",
    st_called: "Đã gọi", st_serving: "Đang phục vụ", st_open: "Đang mở", st_paused: "Tạm dừng", st_closed: "Đóng",
    none_current: "Chưa gọi số nào", none_waiting_called: "Không còn ai chờ.", called_msg: "Đã gọi số {n}",
    recalled_msg: "Đã gọi lại số {n}", finished_msg: "Đã hoàn thành số {n}", noshow_msg: "Số {n} vắng mặt",
    started_msg: "Bắt đầu phục vụ số {n}", transferred_msg: "Đã chuyển số {n}", changed_msg:
      "Quầy vừa thay đổi ở nơi khác (tab khác hoặc bấm hai lần) – màn hình đã được cập nhật.",
    counter_label: "Quầy {n}", open_it: "Mở quầy", taken_by: "Đang do {name} phụ trách", desk_dit: "Bộ phận làm ngay",
    issued: "Lấy số lúc {time}", waited: "đã chờ {m}", serving_for: "phục vụ {m}", priority: "Ưu tiên",
    target_note: "Chỉ tiêu chờ: {m}", no_wait_day: "Hôm nay là Ngày không chờ", transfers: "chuyển {n} lần",
    online: "Trực tuyến", offline_short: "Mất kết nối", login_failed: "Sai tên đăng nhập hoặc mật khẩu.",
    not_staff: "Tài khoản này không dùng được ở quầy.", closed_msg: "Đã đóng quầy.",
    pr_elderly: "Người cao tuổi", pr_disabled: "Người khuyết tật", pr_pregnant: "Phụ nữ có thai",
    pr_child: "Có trẻ nhỏ", pr_merit: "Người có công", pr_other: "Ưu tiên",
  },
  en: {
    app_title: "Counter", login_title: "Staff login", username: "Username", password: "Password", login: "Log in",
    logout: "Log out", switch_counter: "Switch counter", choose_title: "Choose your counter", current: "Current ticket",
    recall: "Recall", start: "Start", finish: "Finish", no_show: "No-show", transfer: "Transfer",
    next: "Call next number", served_today: "Served today", avg_service: "Avg service time",
    waiting_mine: "Waiting for this counter", pause: "Pause", resume: "Resume", close_counter: "Close counter",
    waiting_list: "Waiting list", col_number: "No.", col_service: "Service", col_wait: "Waited",
    no_one_waiting: "Nobody is waiting.", call: "Call",
    shortcuts: "Shortcuts (Vietnamese initials): Space/G call next · L recall · B start · H finish · V no-show · C transfer",
    confirm_next: "{n} is being served. Press Call next again (within 5 s) to finish it and call the next number.",
    confirm_next_label: "Press again: finish {n}, call next", now_waiting: "{n} waiting for this counter.",
    seconds: "{n} s",
    transfer_title: "Transfer", to_service: "To a service", to_counter: "To a counter", note: "Note",
    cancel: "Cancel", confirm_transfer: "Transfer", offline: "Connection lost – retrying…",
    st_called: "Called", st_serving: "Serving", st_open: "Open", st_paused: "Paused", st_closed: "Closed",
    none_current: "No number called yet", none_waiting_called: "Nobody is waiting.", called_msg: "Called {n}",
    recalled_msg: "Recalled {n}", finished_msg: "Finished {n}", noshow_msg: "{n} marked no-show",
    started_msg: "Serving {n}", transferred_msg: "Transferred {n}", changed_msg:
      "The counter changed elsewhere (another tab or a double press) – the screen was refreshed.",
    counter_label: "Counter {n}", open_it: "Open counter", taken_by: "Worked by {name}", desk_dit: "Do-it-now desk",
    issued: "Issued at {time}", waited: "waited {m}", serving_for: "serving {m}", priority: "Priority",
    target_note: "Wait target: {m}", no_wait_day: "Today is a no-wait day", transfers: "transferred {n}×",
    online: "Online", offline_short: "Offline", login_failed: "Wrong username or password.",
    not_staff: "This account cannot work a counter.", closed_msg: "Counter closed.",
    pr_elderly: "Elderly", pr_disabled: "Disability", pr_pregnant: "Pregnant", pr_child: "Small child",
    pr_merit: "Merit", pr_other: "Priority",
  },
});

const COUNTER_KEY = "qms.counter.id";
// Next while a citizen is being served closes that visit: it needs a second press, no sooner than a
// bounce (DOUBLE_MS) and no later than CONFIRM_MS after the first. A held or bouncing key is one press.
const CONFIRM_MS = 5000;
const DOUBLE_MS = 350;
const S = {
  me: null, office: null, counter: null, services: new Map(), counters: [], waiting: [], live: null,
  busy: false, socket: null, refreshTimer: null, said: null, armed: null,
};

// ---- small helpers
function show(view) {
  for (const v of ["login", "choose", "work"]) $("#view-" + v).classList.toggle("hidden", v !== view);
  $("#logout").classList.toggle("hidden", view === "login");
  $("#switch-counter").classList.toggle("hidden", view !== "work");
}
function say(text, kind = "info", key = null) {
  const m = $("#message"); m.textContent = text || ""; m.dataset.kind = kind; S.said = key;
}
// "Quầy 1" and a name that already says it ("Quầy 1 – Bộ phận làm ngay") are not repeated
function counterTitle(c) {
  const label = t("counter_label", { n: c.number });
  const name = (c.name || "").trim();
  if (!name || name === label) return label;
  const says = new RegExp(`^(quầy|counter)\\s*(số\\s*)?${c.number}(?!\\d)`, "i");
  return says.test(name) ? name : `${label} · ${name}`;
}
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return seconds < 60 ? t("seconds", { n: Math.round(seconds) }) : minutes(seconds);
}
function errorText(e) {
  if (e instanceof ApiError && e.code === "counter_changed") return t("changed_msg");
  return e && e.message ? e.message : String(e);
}
function serviceName(id) {
  const s = S.services.get(id);
  if (!s) return "";
  return getLang() === "en" && s.name_en ? s.name_en : s.name;
}
function secondsSince(iso) { return iso ? Math.max(0, (Date.now() - Date.parse(iso)) / 1000) : null; }
// Timestamps carry the office's offset: its local clock time is the HH:MM written in them.
function hhmm(iso) { return iso ? iso.slice(11, 16) : ""; }
function targetWaitS(serviceId) {
  const row = S.live && S.live.services.find((s) => s.id === serviceId);
  if (row && row.target_wait_s) return row.target_wait_s;
  const s = S.services.get(serviceId);
  return s ? s.target_wait_min * 60 : 15 * 60;
}

// ---- login and counter choice
async function boot() {
  apply();
  $("#lang-toggle").textContent = getLang() === "vi" ? "EN" : "VI";
  if (!getToken()) return show("login");
  try {
    S.me = await get("/api/v1/auth/me");
  } catch (e) {
    setToken(null);
    return show("login");
  }
  if (!["clerk", "head", "admin"].includes(S.me.kind) || !S.me.office_id) {
    setToken(null);
    $("#login-error").textContent = t("not_staff");
    return show("login");
  }
  $("#who").textContent = S.me.full_name || S.me.username;
  await loadOffice();
  const saved = Number(localStorage.getItem(COUNTER_KEY) || 0);
  const mine = S.counters.find((c) => c.id === saved && c.state !== "closed" && c.clerk_id === S.me.id);
  if (mine) return enterCounter(mine);
  return chooseCounter();
}

async function loadOffice() {
  const oid = S.me.office_id;
  const [office, services, counters] = await Promise.all([
    get(`/api/v1/offices/${oid}`), get(`/api/v1/offices/${oid}/services`), get(`/api/v1/offices/${oid}/counters`)]);
  S.office = office;
  S.services = new Map(services.items.map((s) => [s.id, s]));
  S.counters = counters.items;
  $("#office-name").textContent = office.name;
}

async function logout() {
  if (S.socket) S.socket.stop();
  await logOut();
  localStorage.removeItem(COUNTER_KEY);
  S.counter = null;
  $("#counter-title").textContent = "";
  show("login");
}

function chooseCounter() {
  if (S.socket) { S.socket.stop(); S.socket = null; }
  S.counter = null;
  $("#counter-title").textContent = "";
  const list = clear($("#counter-list"));
  for (const c of S.counters) {
    const taken = c.state !== "closed" && c.clerk_id && c.clerk_id !== S.me.id;
    const services = c.service_ids.map((id) => (S.services.get(id) || {}).code).filter(Boolean).join(" · ");
    list.append(el("button", {
      class: "counter-choice" + (taken ? " taken" : ""), type: "button", "data-counter": c.id, disabled: taken,
      onclick: () => openCounter(c),
    },
    el("span", { class: "choice-number", text: String(c.number) }),
    el("span", { class: "choice-name", text: c.name }),
    el("span", { class: "choice-services", text: services + (c.desk === "do_it_now" ? " · " + t("desk_dit") : "") }),
    el("span", { class: "choice-state", text: taken ? t("taken_by", { name: (c.clerk || {}).full_name || "?" }) : t("st_" + c.state) })));
  }
  show("choose");
}

async function openCounter(c) {
  $("#choose-error").textContent = "";
  try {
    const opened = await post(`/api/v1/counters/${c.id}/open`);
    await enterCounter(opened);
  } catch (e) {
    $("#choose-error").textContent = errorText(e);
  }
}

async function enterCounter(c) {
  S.counter = c;
  localStorage.setItem(COUNTER_KEY, String(c.id));
  show("work");
  renderCounter();
  await refreshAll();
  startSocket();
}

// ---- data
async function refreshCounter() {
  S.counter = await get(`/api/v1/counters/${S.counter.id}`);
  renderCounter();
}

async function refreshLists() {
  if (!S.counter) return;
  const oid = S.me.office_id;
  const [waiting, live] = await Promise.all([
    get(`/api/v1/offices/${oid}/tickets?status=waiting&limit=500`), get(`/api/v1/offices/${oid}/live`)]);
  S.waiting = waiting.items;
  S.live = live;
  renderWaiting();
  renderStats();
}

async function refreshAll() {
  try { await Promise.all([refreshCounter(), refreshLists()]); } catch (e) { say(errorText(e), "error"); }
}

function scheduleRefresh() {
  clearTimeout(S.refreshTimer);
  S.refreshTimer = setTimeout(() => refreshLists().catch(() => {}), 250);
}

function startSocket() {
  if (S.socket) S.socket.stop();
  S.socket = new LiveSocket({
    token: getToken(), officeId: S.me.office_id,
    onSnapshot: () => { refreshAll(); },
    onEvent: (msg) => {
      const d = msg.data || {};
      if (msg.type === "counter.updated" && d.counter && d.counter.id === S.counter.id && !S.busy) {
        S.counter = d.counter;
        renderCounter();
      }
      if (msg.type === "service.updated" && d.service) S.services.set(d.service.id, d.service);
      if (msg.type.startsWith("ticket.") || msg.type === "queue.updated" || msg.type === "counter.updated"
          || msg.type === "feedback.received" || msg.type === "office.updated") scheduleRefresh();
    },
    onStatus: (status) => {
      document.body.classList.toggle("offline", status === "offline");
      $("#conn").dataset.state = status === "online" ? "online" : "offline";
      $("#conn").textContent = status === "online" ? t("online") : t("offline_short");
      if (status === "unauthorized") { setToken(null); show("login"); }
    },
  });
  S.socket.start();
}

// ---- rendering
function mine(ticket) {
  if (ticket.target_counter_id) return ticket.target_counter_id === S.counter.id;
  if (!S.counter.service_ids.includes(ticket.service_id)) return false;
  const s = S.services.get(ticket.service_id);
  return !(s && s.desk === "do_it_now" && S.counter.desk !== "do_it_now");
}

function renderCounter() {
  const c = S.counter;
  if (!c) return;
  $("#counter-title").textContent = counterTitle(c);
  const cur = c.current_ticket;
  if (S.armed && !(cur && cur.id === S.armed.ticketId && cur.status === "serving")) disarmNext();
  $("#current-number").textContent = cur ? cur.display_number : "—";
  $("#current-card").classList.toggle("empty", !cur);
  $("#current-status").textContent = cur ? t("st_" + cur.status) : "";
  $("#current-status").dataset.status = cur ? cur.status : "";
  const meta = clear($("#current-meta"));
  if (cur) {
    meta.append(el("span", { text: serviceName(cur.service_id) }));
    if (cur.priority) meta.append(el("span", { class: "prio", text: t("pr_" + cur.priority) }));
    meta.append(el("span", { text: t("issued", { time: hhmm(cur.issued_at) }) }));
    if (cur.transfers) meta.append(el("span", { text: t("transfers", { n: cur.transfers }) }));
    if (cur.note) meta.append(el("span", { class: "note", text: "✎ " + cur.note }));
  } else {
    meta.append(el("span", { class: "muted", text: t("none_current") }));
  }
  $("#counter-state").textContent = t("st_" + c.state);
  $("#counter-state").dataset.state = c.state;
  $("#btn-pause").textContent = c.state === "paused" ? t("resume") : t("pause");
  updateButtons();
  document.dispatchEvent(new CustomEvent("qms:current-ticket", { detail: cur || null }));  // dossiers.js
}

function updateButtons() {
  const c = S.counter;
  const cur = c && c.current_ticket;
  const open = c && c.state === "open";
  const b = S.busy;
  $("#btn-next").disabled = b || !open;
  $("#btn-recall").disabled = b || !cur;
  $("#btn-start").disabled = b || !cur || cur.status !== "called";
  $("#btn-finish").disabled = b || !cur;
  $("#btn-noshow").disabled = b || !cur || cur.status !== "called";
  $("#btn-transfer").disabled = b || !cur;
  $("#btn-pause").disabled = b || !c || c.state === "closed";
  $("#btn-close").disabled = b || !c;
  document.querySelectorAll("#waiting-body button").forEach((x) => { x.disabled = b || !open; });
  document.body.classList.toggle("busy", b);
}

function renderWaiting() {
  const body = clear($("#waiting-body"));
  const list = S.waiting.filter(mine);
  for (const tk of list) {
    const waited = secondsSince(tk.issued_at);
    const over = waited !== null && waited > targetWaitS(tk.service_id);
    const number = el("td", { class: "num" }, tk.display_number);
    if (tk.priority) number.append(el("span", { class: "prio", title: t("pr_" + tk.priority), text: "★" }));
    body.append(el("tr", { class: over ? "over" : "", "data-ticket": tk.id },
      number,
      el("td", { class: "svc", text: serviceName(tk.service_id) + (tk.target_counter_id ? " → " + t("counter_label", { n: S.counter.number }) : "") }),
      el("td", { class: "wait", text: minutes(waited) }),
      el("td", {}, el("button", { class: "secondary small call-btn", type: "button", onclick: () => callChosen(tk) , text: t("call") }))));
  }
  $("#waiting-empty").classList.toggle("hidden", list.length > 0);
  // "Nobody is waiting" from an earlier Next is out of date once someone is
  if (list.length && S.said === "none_waiting") say(t("now_waiting", { n: list.length }), "info", "now_waiting");
  $("#stat-waiting").textContent = String(list.length);
  const live = S.live;
  const noWait = !!(live && live.programs && live.programs.no_wait_day);
  $("#nowait-banner").classList.toggle("hidden", !noWait);
  const targets = S.counter.service_ids.map((id) => targetWaitS(id));
  $("#target-note").textContent = targets.length ? t("target_note", { m: minutes(Math.min(...targets)) }) : "";
  updateButtons();
}

function renderStats() {
  const row = S.live && S.live.counters.find((c) => c.id === S.counter.id);
  $("#stat-served").textContent = row ? String(row.served_today) : "0";
  $("#stat-avg").textContent = row ? duration(row.avg_service_s) : "–";
}

// ---- actions: one at a time
async function act(fn, okMessage) {
  if (S.busy || !S.counter) return;
  S.busy = true;
  updateButtons();
  S.said = null;
  try {
    const text = await fn();
    say(text || okMessage || "", "ok", S.said);
  } catch (e) {
    say(errorText(e), "error");
    if (e instanceof ApiError && e.status === 401) { setToken(null); show("login"); }
  } finally {
    try { await refreshCounter(); } catch { /* shown by the socket status */ }
    S.busy = false;
    updateButtons();
    scheduleRefresh();
  }
}

const current = () => S.counter && S.counter.current_ticket;

function disarmNext() {
  if (!S.armed) return;
  clearTimeout(S.armed.timer);
  S.armed = null;
  $("#btn-next").classList.remove("armed");
  $("#btn-next .next-label").textContent = t("next");
  if (S.said === "confirm_next") say("");  // the question has lapsed
}
function next() {
  const cur = current();
  if (cur && cur.status === "serving" && !S.busy) {
    const now = Date.now();
    const armed = S.armed && S.armed.ticketId === cur.id ? S.armed : null;
    if (armed && now - armed.at < DOUBLE_MS) return;  // a bounce or a double click is not a second press
    if (!armed) {
      disarmNext();
      S.armed = { ticketId: cur.id, at: now, timer: setTimeout(disarmNext, CONFIRM_MS) };
      $("#btn-next").classList.add("armed");
      $("#btn-next .next-label").textContent = t("confirm_next_label", { n: cur.display_number });
      say(t("confirm_next", { n: cur.display_number }), "warn", "confirm_next");
      return;
    }
  }
  disarmNext();
  return act(async () => {
    const res = await post(`/api/v1/counters/${S.counter.id}/next`, { current_ticket_id: cur ? cur.id : 0 });
    if (!res.ticket) S.said = "none_waiting";
    return res.ticket ? t("called_msg", { n: res.ticket.display_number }) : t("none_waiting_called");
  });
}
function recall() {
  if (!current()) return;
  return act(async () => {
    const res = await post(`/api/v1/counters/${S.counter.id}/recall`);
    return t("recalled_msg", { n: res.ticket.display_number });
  });
}
function ticketAction(path, msgKey, allowed) {
  const cur = current();
  if (!cur || (allowed && !allowed.includes(cur.status))) return;
  return act(async () => {
    const res = await post(`/api/v1/tickets/${cur.id}/${path}`);
    return t(msgKey, { n: res.display_number });
  });
}
function callChosen(tk) {
  return act(async () => {
    const res = await post(`/api/v1/counters/${S.counter.id}/call`, { ticket_id: tk.id });
    return t("called_msg", { n: res.ticket.display_number });
  });
}
function pauseOrResume() {
  const verb = S.counter.state === "paused" ? "open" : "pause";
  return act(async () => { await post(`/api/v1/counters/${S.counter.id}/${verb}`); });
}
async function closeCounter() {
  await act(async () => { await post(`/api/v1/counters/${S.counter.id}/close`); return t("closed_msg"); });
  if (S.counter && S.counter.state === "closed") {
    localStorage.removeItem(COUNTER_KEY);
    await loadOffice();
    chooseCounter();
  }
}

// ---- transfer dialog
function fillTransferTargets() {
  const kind = document.querySelector("input[name=target-kind]:checked").value;
  const sel = clear($("#transfer-target"));
  const cur = current();
  const own = cur && S.services.get(cur.service_id);
  const dit = own && own.desk === "do_it_now";
  if (kind === "service") {
    for (const s of S.services.values()) {
      if (!s.active || (cur && s.id === cur.service_id)) continue;
      sel.append(el("option", { value: s.id, text: `${s.code} – ${getLang() === "en" && s.name_en ? s.name_en : s.name}` }));
    }
  } else {
    for (const c of S.counters) {
      if (c.id === S.counter.id || (dit && c.desk !== "do_it_now")) continue;
      sel.append(el("option", { value: c.id, text: counterTitle(c) }));
    }
  }
}
async function openTransfer() {
  const cur = current();
  if (!cur || S.busy) return;
  try { S.counters = (await get(`/api/v1/offices/${S.me.office_id}/counters`)).items; } catch { /* keep the old list */ }
  $("#transfer-number").textContent = cur.display_number;
  $("#transfer-note").value = "";
  $("#transfer-error").textContent = "";
  fillTransferTargets();
  $("#transfer-dialog").showModal();
  $("#transfer-target").focus();
}
async function confirmTransfer(ev) {
  ev.preventDefault();
  const cur = current();
  const kind = document.querySelector("input[name=target-kind]:checked").value;
  const target = Number($("#transfer-target").value);
  if (!cur || !target) return;
  const body = kind === "service" ? { service_id: target } : { counter_id: target };
  const note = $("#transfer-note").value.trim();
  if (note) body.note = note;
  $("#transfer-dialog").close();
  await act(async () => {
    const res = await post(`/api/v1/tickets/${cur.id}/transfer`, body);
    return t("transferred_msg", { n: res.display_number });
  });
}

// ---- keyboard
function onKey(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if ($("#transfer-dialog").open || $("#view-work").classList.contains("hidden")) return;
  const tag = (ev.target && ev.target.tagName) || "";
  if (["INPUT", "TEXTAREA", "SELECT"].includes(tag)) return;
  const key = ev.key.toLowerCase();
  // Vietnamese initials: Gọi (call next), gọi Lại, Bắt đầu, Hoàn thành, Vắng mặt, Chuyển
  const map = {
    " ": next, g: next, l: recall, b: () => ticketAction("start", "started_msg", ["called"]),
    h: () => ticketAction("finish", "finished_msg"), v: () => ticketAction("no-show", "noshow_msg", ["called"]),
    c: openTransfer,
  };
  if (!map[key]) return;
  ev.preventDefault();
  if (ev.repeat) return;  // a held key is one press
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  map[key]();
}

// ---- wiring
wireLoginForm(boot, errorText);
$("#logout").addEventListener("click", logout);
$("#switch-counter").addEventListener("click", async () => { await loadOffice(); chooseCounter(); });
$("#lang-toggle").addEventListener("click", () => {
  setLang(getLang() === "vi" ? "en" : "vi");
  $("#lang-toggle").textContent = getLang() === "vi" ? "EN" : "VI";
  if (S.counter) { renderCounter(); renderWaiting(); renderStats(); }
  else if (S.me && !$("#view-choose").classList.contains("hidden")) chooseCounter();
});
$("#btn-next").addEventListener("click", next);
$("#btn-recall").addEventListener("click", recall);
$("#btn-start").addEventListener("click", () => ticketAction("start", "started_msg", ["called"]));
$("#btn-finish").addEventListener("click", () => ticketAction("finish", "finished_msg"));
$("#btn-noshow").addEventListener("click", () => ticketAction("no-show", "noshow_msg", ["called"]));
$("#btn-transfer").addEventListener("click", openTransfer);
$("#btn-pause").addEventListener("click", pauseOrResume);
$("#btn-close").addEventListener("click", closeCounter);
document.querySelectorAll("input[name=target-kind]").forEach((r) => r.addEventListener("change", fillTransferTargets));
$("#transfer-form").addEventListener("submit", confirmTransfer);
$("#transfer-cancel").addEventListener("click", () => $("#transfer-dialog").close());
document.addEventListener("keydown", onKey);
setInterval(() => { if (S.counter && !$("#view-work").classList.contains("hidden")) renderWaiting(); }, 15000);
boot();
