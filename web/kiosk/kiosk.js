// The ticket kiosk: choose a service (tap 1), take a number with or without priority (tap 2),
// see the ticket with its QR code. Services and hours stay live over the WebSocket.
import { get, post, ApiError } from "/static/shared/api.js";
import { getToken, setToken, pair } from "/static/shared/auth.js";
import { LiveSocket } from "/static/shared/ws.js";
import { el, $, clear } from "/static/shared/dom.js";
import { t, setDictionary, setLang, getLang, apply, minutes } from "/static/shared/i18n.js";
import { listenForScans } from "./scanner.js";
import { LOOKUP_DICT, setupLookup, setLookupAvailable, lookupAvailable, scanned, onLookupScreen } from "./lookup.js";
import { IDCARD_DICT, looksLikeCard, setupCard, cardScanned, forgetCard, pendingCard, cardOnPriorityScreen, cardRefused } from "./idcard.js";
import { installAppointments } from "/static/kiosk/appointment.js";

const DICT = {
  vi: {
    org: "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", choose_service: "Chạm vào lĩnh vực bạn cần giải quyết",
    hint_priority: "Người cao tuổi, người khuyết tật, phụ nữ có thai… được ưu tiên ở bước sau.",
    waiting: "{n} người đang chờ", wait_about: "Chờ khoảng {m}", no_wait: "Không phải chờ",
    do_it_now: "Bộ phận làm ngay", closed_tag: "Tạm ngừng nhận số",
    take_number: "LẤY SỐ", no_priority: "Không thuộc diện ưu tiên", or_priority: "Hoặc chọn đối tượng ưu tiên:",
    back: "‹ Quay lại",
    elderly: "Người cao tuổi", disabled: "Người khuyết tật", pregnant: "Phụ nữ có thai",
    child: "Người đi cùng trẻ nhỏ", merit: "Người có công với cách mạng", other: "Ưu tiên khác",
    your_number: "SỐ THỨ TỰ CỦA BẠN", people_ahead: "người chờ trước bạn", est_wait: "thời gian chờ dự kiến",
    scan_to_follow: "Quét mã để theo dõi lượt trên điện\u00a0thoại", done: "Xong", ok: "Đã hiểu",
    printing: "Đang in phiếu…", printed: "Mời bạn nhận phiếu bên dưới.",
    printer_trouble: "Máy in đang gặp sự cố — hãy chụp ảnh mã QR",
    no_printer: "Hãy ghi nhớ số hoặc chụp ảnh mã QR để theo dõi lượt.",
    closed_title: "Dịch vụ tạm ngừng nhận số", closed_text: "Lĩnh vực «{name}» hiện không nhận số. Xin vui lòng hỏi cán bộ hướng dẫn.",
    hours_title: "Ngoài giờ lấy số", hours_text: "Giờ lấy số hôm nay: {hours}.", hours_none: "Hôm nay không có giờ lấy số.",
    hours_banner: "Ngoài giờ lấy số. Giờ lấy số hôm nay: {hours}",
    limit_title: "Đã hết số trong ngày", limit_text: "Lĩnh vực «{name}» đã phát hết {n} số hôm nay. Mời bạn quay lại vào ngày làm việc tiếp theo.",
    busy_title: "Xin chờ giây lát", busy_text: "Máy đang bận, xin thử lại sau ít giây.",
    error_title: "Chưa lấy được số", error_text: "Không kết nối được máy chủ. Xin thử lại hoặc hỏi cán bộ hướng dẫn.",
    pair_title: "Ghép nối máy lấy số", pair_help: "Trưởng bộ phận nhập mã này trong trang quản trị để kích hoạt máy:",
    offline: "Mất kết nối — đang thử lại…", loading: "Đang tải…", no_counter: "Chưa có quầy phục vụ",
  },
  en: {
    org: "PUBLIC ADMINISTRATIVE SERVICE CENTRE", choose_service: "Touch the service you need",
    hint_priority: "Elderly, disabled and pregnant visitors can choose priority in the next step.",
    waiting: "{n} waiting", wait_about: "About {m}", no_wait: "No wait",
    do_it_now: "Do-it-now desk", closed_tag: "Not taking tickets",
    take_number: "TAKE A NUMBER", no_priority: "No priority", or_priority: "Or choose a priority group:",
    back: "‹ Back",
    elderly: "Elderly", disabled: "Person with disability", pregnant: "Pregnant woman",
    child: "With a small child", merit: "Person of merit", other: "Other priority",
    your_number: "YOUR NUMBER", people_ahead: "people ahead of you", est_wait: "estimated wait",
    scan_to_follow: "Scan to follow your turn on your phone", done: "Done", ok: "OK",
    printing: "Printing your ticket…", printed: "Please take your ticket below.",
    printer_trouble: "The printer has a problem — please take a photo of the QR code",
    no_printer: "Remember your number or take a photo of the QR code to follow your turn.",
    closed_title: "Service not taking tickets", closed_text: "«{name}» is not taking tickets now. Please ask the staff.",
    hours_title: "Outside ticket hours", hours_text: "Tickets today: {hours}.", hours_none: "No tickets are issued today.",
    hours_banner: "Outside ticket hours. Tickets today: {hours}",
    limit_title: "No more numbers today", limit_text: "«{name}» has issued all {n} numbers for today. Please come back on the next working day.",
    busy_title: "One moment please", busy_text: "The kiosk is busy; please try again in a few seconds.",
    error_title: "No ticket yet", error_text: "The server cannot be reached. Please try again or ask the staff.",
    pair_title: "Pair this kiosk", pair_help: "An office head enters this code in the admin page to activate the kiosk:",
    offline: "Offline — reconnecting…", loading: "Loading…", no_counter: "No counter is serving this yet",
  },
};
const PRIORITIES = ["elderly", "disabled", "pregnant", "child", "merit", "other"];
const IDLE_MS = { priority: 20000, ticket: 15000, trouble: 30000, message: 12000 };
const JOB_WATCH_MS = 8000;

let appointments = null;  // the "Đã có lịch hẹn" module (appointment.js), once installed
const state = { officeId: null, office: null, services: [], programs: null, chosen: null, busy: false,
  idleTimer: null, socket: null, ticketSerial: 0 };

for (const extra of [LOOKUP_DICT, IDCARD_DICT]) for (const l of ["vi", "en"]) Object.assign(DICT[l], extra[l]);
setDictionary(DICT);
document.documentElement.lang = getLang();

function show(name) {
  for (const s of document.querySelectorAll(".screen")) s.classList.toggle("hidden", s.id !== "screen-" + name);
  document.body.dataset.screen = name;
}

function idle(ms) {
  clearTimeout(state.idleTimer);
  if (ms) state.idleTimer = setTimeout(home, ms);
}

function home() {
  idle(0);
  state.chosen = null;
  state.ticketSerial++;
  forgetCard();
  renderServices();
  show("start");
}

function serviceName(s) { return getLang() === "en" && s.name_en ? s.name_en : s.name; }
function hoursText(hours) {
  return hours && hours.length ? hours.map(([a, b]) => `${a}–${b}`).join(", ") : null;
}

// ---- start screen
function renderServices() {
  const box = clear($("#services"));
  const open = !state.programs || state.programs.issuing_open !== false;
  const banner = $("#banner");
  if (!open) {
    const hours = hoursText(state.programs.hours_today);
    banner.textContent = hours ? t("hours_banner", { hours }) : t("hours_none");
    banner.classList.remove("hidden");
  } else banner.classList.add("hidden");
  const services = state.services.filter((s) => !s.archived);
  box.classList.toggle("many", services.length > 6);
  for (const s of services) {
    const closed = s.active === false || !open;
    const meta = [];
    if (s.desk === "do_it_now") meta.push(el("span", { class: "tag now", text: t("do_it_now") }));
    if (s.active === false) meta.push(el("span", { class: "tag closed", text: t("closed_tag") }));
    const queue = s.active === false || s.waiting === undefined ? ""  // figures come with the live snapshot
      : s.serving_now === false  // no counter open for it: no time promised
      ? (s.waiting ? t("waiting", { n: s.waiting }) + " · " : "") + t("no_counter")
      : (s.waiting ? t("waiting", { n: s.waiting }) + " · " + t("wait_about", { m: minutes(s.estimated_wait_s) })
        : t("no_wait"));
    box.append(el("button", { type: "button", class: "service" + (closed ? " closed" : ""),
      dataset: { serviceId: s.id }, onclick: () => chooseService(s) },
      el("span", { class: "code", text: s.code }),
      el("span", { class: "body" },
        el("span", { class: "name", text: serviceName(s) }),
        el("span", { class: "meta" }, ...meta, queue ? el("span", { class: "queue", text: queue }) : null))));
  }
}

function chooseService(s) {
  if (s.active === false) return message("closed", t("closed_title"), t("closed_text", { name: serviceName(s) }));
  if (state.programs && state.programs.issuing_open === false) {
    const hours = hoursText(state.programs.hours_today);
    return message("hours", t("hours_title"), hours ? t("hours_text", { hours }) : t("hours_none"));
  }
  state.chosen = s;
  const chosen = clear($("#chosen-service"));
  chosen.append(el("span", { class: "code", text: s.code }), el("span", { class: "name", text: serviceName(s) }),
    s.desk === "do_it_now" ? el("span", { class: "tag now", text: t("do_it_now") }) : null);
  const box = clear($("#priorities"));
  for (const p of PRIORITIES) {
    box.append(el("button", { type: "button", class: "priority", dataset: { priority: p },
      onclick: () => issue(p) }, el("span", { text: t(p) })));
  }
  cardOnPriorityScreen();
  show("priority");
  idle(IDLE_MS.priority);
}

// ---- issuing
async function issue(priority) {
  if (state.busy || !state.chosen) return;
  state.busy = true;
  document.body.classList.add("busy");
  const s = state.chosen;
  try {
    const body = { service_id: s.id, priority, lang: getLang() };
    const card = pendingCard();
    if (card) body.id_card_qr = card.qr;  // the server reads the birth date, keeps a keyed hash, drops the rest
    const ticket = await post(`/api/v1/offices/${state.officeId}/tickets`, body);
    forgetCard();
    showTicket(ticket, s, ticket.priority ?? priority);
  } catch (e) {
    failed(e, s);
  } finally {
    state.busy = false;
    document.body.classList.remove("busy");
  }
}

function failed(e, s) {
  if (!(e instanceof ApiError)) throw e;
  const d = e.details || {};
  if (e.code === "invalid_value" && d.field === "id_card_qr") return cardRefused();
  if (e.code === "service_closed" && d.reason === "outside_hours") {
    const hours = hoursText(d.hours);
    return message("hours", t("hours_title"), hours ? t("hours_text", { hours }) : t("hours_none"));
  }
  if (e.code === "service_closed") {
    s.active = false;
    return message("closed", t("closed_title"), t("closed_text", { name: serviceName(s) }));
  }
  if (e.code === "daily_limit_reached") {
    return message("limit", t("limit_title"), t("limit_text", { name: serviceName(s), n: d.daily_limit ?? "" }));
  }
  if (e.status === 429 || e.code === "busy") return message("busy", t("busy_title"), t("busy_text"));
  if (e.status === 401) { setToken(null); location.reload(); return; }
  return message("error", t("error_title"), t("error_text"));
}

function message(kind, title, text) {
  $("#message-card").dataset.kind = kind;
  $("#message-icon").textContent = kind === "busy" ? "…" : kind === "hours" ? "🕒" : "!";
  $("#message-title").textContent = title;
  $("#message-text").textContent = text;
  show("message");
  idle(IDLE_MS.message);
}

// ---- the ticket on screen
function showTicket(ticket, s, priority) {
  const serial = ++state.ticketSerial;
  $("#t-number").textContent = ticket.display_number;
  $("#t-service").textContent = serviceName(s);
  const tags = clear($("#t-tags"));
  if (s.desk === "do_it_now") tags.append(el("span", { class: "tag now", text: t("do_it_now") }));
  if (priority) tags.append(el("span", { class: "tag prio", text: t(priority) }));
  $("#t-ahead").textContent = ticket.position ?? 0;
  const unserved = ticket.serving_now === false;  // no counter open for it: no time promised
  $("#t-wait").textContent = unserved ? t("no_counter") : minutes(ticket.estimated_wait_s);
  $("#t-wait").parentElement.classList.toggle("hidden", !unserved && ticket.estimated_wait_s == null);
  const qr = $("#t-qr");
  qr.classList.remove("loaded");
  qr.onload = () => qr.classList.add("loaded");
  qr.src = `/api/v1/track/${encodeURIComponent(ticket.track_code)}/qr.svg`;
  const status = $("#print-status");
  const screen = $("#screen-ticket");
  screen.dataset.ticketId = ticket.id;
  restartCountdown(IDLE_MS.ticket);
  if (!ticket.print_job) {
    status.className = "print-status info";
    status.textContent = t("no_printer");
  } else {
    status.className = "print-status pending";
    status.textContent = t("printing");
    watchJob(ticket.print_job.id, serial);
  }
  show("ticket");
  idle(IDLE_MS.ticket);
}

function restartCountdown(ms) {
  const bar = $("#countdown-bar");
  bar.getAnimations().forEach((a) => a.cancel());
  bar.animate([{ transform: "scaleX(1)" }, { transform: "scaleX(0)" }], { duration: ms, easing: "linear", fill: "forwards" });
}

function trouble() {
  const status = $("#print-status");
  status.className = "print-status trouble";
  status.textContent = t("printer_trouble");
  restartCountdown(IDLE_MS.trouble);
  idle(IDLE_MS.trouble);
}

async function watchJob(jobId, serial) {
  const until = Date.now() + JOB_WATCH_MS;
  while (serial === state.ticketSerial) {
    let job = null;
    try { job = await get(`/api/v1/print-jobs/${jobId}`); } catch { /* keep the ticket on screen */ }
    if (serial !== state.ticketSerial) return;
    if (job && job.status === "printed") {
      const status = $("#print-status");
      status.className = "print-status ok";
      status.textContent = t("printed");
      return;
    }
    const printer = job && job.printer;
    if (job && (job.status === "failed" || job.error || (printer && (printer.paper === "out"))) || Date.now() > until) {
      return trouble();
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}

// ---- live state
function mergeServices(rows) {
  for (const row of rows) {
    const id = row.id ?? row.service_id;
    const s = state.services.find((x) => x.id === id);
    if (s) Object.assign(s, row, { id });
  }
}

function onSnapshot(data) {
  if (data.services) state.services = data.services.map((s) => ({ ...s }));
  state.programs = data.programs || null;
  if (data.office && data.office.name) $("#office-name").textContent = data.office.name;
  refreshOffice();  // settings the snapshot does not carry (the result look-up) may have changed meanwhile
  if (document.body.dataset.screen === "start") renderServices();
}

function refreshOffice() {
  if (!state.officeId) return;
  get(`/api/v1/offices/${state.officeId}`).then((o) => { state.office = o; setLookupAvailable(o); }).catch(() => {});
}

function onEvent(msg) {
  const d = msg.data || {};
  if (msg.type === "service.updated" && d.service) {
    const s = state.services.find((x) => x.id === d.service.id);
    if (s) Object.assign(s, d.service); else state.services.push({ waiting: 0, estimated_wait_s: null, serving_now: false, ...d.service });
    state.services.sort((a, b) => (a.sort_order ?? 0) - (b.sort_order ?? 0) || a.code.localeCompare(b.code));
  } else if (msg.type === "queue.updated" && d.services) {
    mergeServices(d.services);
  } else if (msg.type === "office.updated") {
    if (d.office && state.office) { Object.assign(state.office, d.office); setLookupAvailable(state.office); }
    resnapshot();  // hours may have changed: the snapshot says whether tickets are issued now
    return;
  } else return;
  if (document.body.dataset.screen === "start") renderServices();
}

function resnapshot() {
  if (!state.socket) return;
  state.socket.seq = null;
  if (state.socket.ws) state.socket.ws.close();
}

// ---- start up
function tick() {
  const now = new Date();
  const timeZone = (state.office && state.office.timezone) || "Asia/Ho_Chi_Minh";
  $("#clock").textContent = now.toLocaleTimeString(getLang() === "en" ? "en-GB" : "vi-VN",
    { hour: "2-digit", minute: "2-digit", timeZone });
}

function wireLanguage() {
  for (const b of document.querySelectorAll(".lang")) {
    b.classList.toggle("active", b.dataset.lang === getLang());
    b.onclick = () => {
      setLang(b.dataset.lang);
      for (const o of document.querySelectorAll(".lang")) o.classList.toggle("active", o.dataset.lang === getLang());
      tick();
      if (document.body.dataset.screen === "priority" && state.chosen) chooseService(state.chosen);
      else home();
    };
  }
}

async function ensureToken() {
  let token = getToken();
  if (!token) {
    show("pair");
    token = await pair("kiosk", (code) => { $("#pair-code").textContent = code; });
  }
  return token;
}

// a scan anywhere: a chip ID card's QR on the start screen, a receipt's code on the start or look-up screen
function onScan(text) {
  const screen = document.body.dataset.screen;
  if (screen === "priority" && looksLikeCard(text)) return cardScanned(text, true);
  if (screen !== "start" && !onLookupScreen()) return;
  if (looksLikeCard(text)) {
    if (screen === "start") cardScanned(text);
    return;
  }
  // a dossier receipt (agency code, dots and dashes) goes to the result look-up; a short code is a booking's
  if (lookupAvailable() && /[.-]/.test(text)) return scanned(text);
  if (screen === "start" && /^[A-Za-z0-9]{4,10}$/.test(text.trim()) && appointments) return appointments.scan(text.trim());
  if (lookupAvailable()) scanned(text);
}

async function start() {
  setupLookup({ t, show, idle, home, officeId: () => state.officeId, lang: getLang });
  setupCard({ t, message });
  apply();
  wireLanguage();
  tick();
  setInterval(tick, 10000);
  $("#no-priority").onclick = () => issue(null);
  $("#back").onclick = home;
  $("#done").onclick = home;
  $("#message-ok").onclick = home;
  document.addEventListener("pointerdown", () => {
    const screen = document.body.dataset.screen;
    if (screen === "priority") idle(IDLE_MS.priority);
    if (screen === "message") idle(IDLE_MS.message);
  });
  const token = await ensureToken();
  let me;
  try { me = await get("/api/v1/auth/me"); } catch (e) {
    if (e instanceof ApiError && e.status === 401) { setToken(null); location.reload(); return; }
    throw e;
  }
  state.officeId = me.office_id;
  const [office, services] = await Promise.all([get(`/api/v1/offices/${me.office_id}`),
    get(`/api/v1/offices/${me.office_id}/services`)]);
  state.office = office;
  setLookupAvailable(office);
  $("#office-name").textContent = office.name;
  tick();
  state.services = services.items;
  home();
  listenForScans(onScan);
  appointments = installAppointments({ officeId: () => state.officeId, show, home, idle,  // "Đã có lịch hẹn" (appointment.js)
    showTicket: (ticket, s) => showTicket(ticket, s, ticket.priority),
    serviceById: (id) => state.services.find((x) => x.id === id),
    onAuthLost: () => { setToken(null); location.reload(); } });
  state.socket = new LiveSocket({ token, officeId: me.office_id, onSnapshot, onEvent,
    onStatus: (s) => {
      document.body.classList.toggle("offline", s === "offline");
      if (s === "unauthorized") { setToken(null); location.reload(); }
    } });
  state.socket.start();
  setInterval(resnapshot, 5 * 60 * 1000);  // opening hours move on with the clock
  document.body.classList.add("ready");
}

start();
