// The rating tablet at one counter: idle (office, counter, clerk) → on feedback.request the scale with
// faces → reasons and a comment when unsatisfied → thanks → idle. A rating tapped while the server is
// unreachable is kept in localStorage and sent on reconnect (the server still enforces the window).
import { ApiError, get, post } from "/static/shared/api.js";
import { getToken, pair, setToken } from "/static/shared/auth.js";
import { $, clear, el } from "/static/shared/dom.js";
import { apply, getLang, setDictionary, setLang, t } from "/static/shared/i18n.js";
import { LiveSocket } from "/static/shared/ws.js";

setDictionary({
  vi: {
    pair_title: "Ghép nối máy tính bảng", pair_help: "Đọc mã dưới đây cho lãnh đạo đơn vị để duyệt thiết bị này tại trang Quản trị.",
    counter: "Quầy", idle_hint: "Sau khi được phục vụ, xin ông/bà vui lòng đánh giá mức độ hài lòng tại đây.",
    ticket: "Số thứ tự", question: "Ông/bà có hài lòng với việc phục vụ của chúng tôi?",
    reasons_title: "Xin cho biết điều ông/bà chưa hài lòng", comment_ph: "Góp ý thêm (không bắt buộc)",
    send: "Gửi đánh giá", thanks: "Cảm ơn ông/bà đã đánh giá!", offline: "Mất kết nối – đang thử lại…",
    kept: "Đánh giá đã được lưu và sẽ gửi khi có kết nối.", clerk: "Cán bộ: {name}",
    very_satisfied: "Rất hài lòng", satisfied: "Hài lòng", neutral: "Bình thường", unsatisfied: "Không hài lòng",
    very_unsatisfied: "Rất không hài lòng", attitude: "Thái độ phục vụ", waiting_time: "Thời gian chờ",
    guidance: "Hướng dẫn chưa rõ", procedure: "Thủ tục phức tạp",
    trips_question: "Ông/bà đã phải đến bao nhiêu lần để giải quyết việc này?", trips_1: "1 lần", trips_2: "2 lần",
    trips_3: "3 lần trở lên",
  },
  en: {
    pair_title: "Pair this tablet", pair_help: "Read this code to the office head, who approves the device on the Admin page.",
    counter: "Counter", idle_hint: "After your service, please rate us here.", ticket: "Ticket",
    question: "How satisfied are you with our service?", reasons_title: "What were you not satisfied with?",
    comment_ph: "Anything else? (optional)", send: "Send rating", thanks: "Thank you for your rating!",
    offline: "Connection lost – retrying…", kept: "Your rating is saved and will be sent when the connection is back.",
    clerk: "Clerk: {name}", very_satisfied: "Very satisfied", satisfied: "Satisfied", neutral: "Neutral",
    unsatisfied: "Unsatisfied", very_unsatisfied: "Very unsatisfied", attitude: "Attitude",
    waiting_time: "Waiting time", guidance: "Guidance", procedure: "Procedure",
    trips_question: "How many trips did this take you?", trips_1: "1 trip", trips_2: "2 trips", trips_3: "3 or more",
  },
});

const SCALES = {
  3: ["very_satisfied", "satisfied", "unsatisfied"],
  4: ["very_satisfied", "satisfied", "neutral", "unsatisfied"],
  5: ["very_satisfied", "satisfied", "neutral", "unsatisfied", "very_unsatisfied"],
};
const FACES = {  // colour, mouth curve (+ smile, - frown)
  very_satisfied: ["#1b8a4a", 20], satisfied: ["#62b13a", 11], neutral: ["#e3a600", 0],
  unsatisfied: ["#ec7a1c", -11], very_unsatisfied: ["#d62828", -19],
};
const ASK_REASONS = new Set(["unsatisfied", "very_unsatisfied"]);
const REASONS = ["attitude", "waiting_time", "guidance", "procedure"];
const PENDING_KEY = "qms.tablet.pending";
const RATE_TIMEOUT_MS = 120000;
const REASONS_TIMEOUT_MS = 60000;
const THANKS_MS = 3500;

const S = { me: null, office: null, counter: null, request: null, chosen: null, timer: null, socket: null,
  trips: undefined };  // trips: undefined = not asked yet, null = asked and not answered, 1 | 2 | 3

function screen(name) {
  for (const s of ["pair", "idle", "rate", "reasons", "trips", "thanks"]) $("#screen-" + s).classList.toggle("hidden", s !== name);
  document.body.dataset.screen = name;
}
function later(ms, fn) { clearTimeout(S.timer); S.timer = setTimeout(fn, ms); }

// ---- faces drawn as SVG (no images to download)
const NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  return n;
}
function face(level, last) {
  const [colour, curve] = FACES[last && level === "unsatisfied" ? "very_unsatisfied" : level];
  const s = svg("svg", { viewBox: "0 0 100 100", class: "face", "aria-hidden": "true" });
  s.append(svg("circle", { cx: 50, cy: 50, r: 46, fill: colour }));
  s.append(svg("circle", { cx: 34, cy: 40, r: 6, fill: "#fff" }), svg("circle", { cx: 66, cy: 40, r: 6, fill: "#fff" }));
  const y = curve >= 0 ? 62 : 72;
  s.append(svg("path", { d: `M28 ${y} Q50 ${y + curve * 1.4} 72 ${y}`, stroke: "#fff", "stroke-width": 7,
    fill: "none", "stroke-linecap": "round" }));
  return s;
}

// ---- idle screen
function renderIdle() {
  $("#office-name").textContent = S.office ? S.office.name : "";
  const c = S.counter;
  $("#bar-counter").textContent = c ? `${t("counter")} ${c.number}` : "";
  $("#idle-number").textContent = c ? String(c.number) : "–";
  $("#idle-name").textContent = c ? c.name : "";
  const clerk = c && c.clerk && c.clerk.full_name;
  $("#idle-clerk").textContent = clerk && c.state !== "closed" ? t("clerk", { name: clerk }) : "";
}
function toIdle() {
  clearTimeout(S.timer);
  S.request = null; S.chosen = null; S.trips = undefined;
  renderIdle();
  screen("idle");
}

// ---- rating
function showRequest(req, at) {
  S.request = req;
  S.chosen = null;
  S.trips = undefined;
  $("#rate-number").textContent = req.ticket.display_number;
  const levels = req.levels && req.levels.length ? req.levels : SCALES[req.scale] || SCALES[3];
  const box = clear($("#levels"));
  box.dataset.count = String(levels.length);
  for (const level of levels) {
    box.append(el("button", { class: "level", type: "button", "data-level": level, onclick: () => choose(level) },
      face(level, level === levels[levels.length - 1]), el("span", { class: "level-label", text: t(level) })));
  }
  screen("rate");
  // The window as the server counts it (expires_at - the event's time): the tablet's own clock may be off.
  const left = req.expires_at && at ? Date.parse(req.expires_at) - Date.parse(at) : RATE_TIMEOUT_MS;
  later(Math.max(1000, Math.min(RATE_TIMEOUT_MS, left)), toIdle);
}

function choose(level) {
  if (!S.request || S.chosen) return;  // a second tap is not a second rating
  S.chosen = level;
  if (!ASK_REASONS.has(level)) return submit();
  const box = clear($("#reasons"));
  for (const r of REASONS) {
    box.append(el("button", { class: "reason", type: "button", "data-reason": r, "aria-pressed": "false",
      onclick: (ev) => { const b = ev.currentTarget; b.setAttribute("aria-pressed", b.getAttribute("aria-pressed") === "true" ? "false" : "true"); later(REASONS_TIMEOUT_MS, submit); },
      text: t(r) }));
  }
  $("#comment").value = "";
  screen("reasons");
  later(REASONS_TIMEOUT_MS, submit);
}

// The office asks how many trips the visit took (ask_trips): one more tap after the rating.
function wantsTrips() {
  const req = S.request || {};
  return req.ask_trips !== undefined ? !!req.ask_trips : !!(S.office && S.office.ask_trips);
}
function askTrips() {
  S.trips = null;  // unanswered until a tap; the timeout sends the rating without it
  screen("trips");
  later(REASONS_TIMEOUT_MS, submit);
}
function answerTrips(n) {
  if (!S.request || !S.chosen || S.trips) return;
  S.trips = n;
  submit();
}

function submit() {
  if (!S.request || !S.chosen) return;
  if (S.trips === undefined && wantsTrips()) return askTrips();
  const entry = { ticket_id: S.request.ticket.id, rating: S.chosen };
  if (S.trips) entry.trips = S.trips;
  if (ASK_REASONS.has(S.chosen)) {
    const reasons = [...document.querySelectorAll("#reasons .reason[aria-pressed=true]")].map((b) => b.dataset.reason);
    if (reasons.length) entry.reasons = reasons;
    const comment = $("#comment").value.trim();
    if (comment) entry.comment = comment.slice(0, 500);
  }
  S.request = null;
  $("#thanks-note").textContent = "";
  screen("thanks");
  later(THANKS_MS, toIdle);
  send(entry).then((kept) => { if (kept) $("#thanks-note").textContent = t("kept"); });
}

// ---- sending, and keeping what could not be sent
function pending() { try { return JSON.parse(localStorage.getItem(PENDING_KEY) || "[]"); } catch { return []; } }
function savePending(list) { localStorage.setItem(PENDING_KEY, JSON.stringify(list)); }
const retryable = (e) => e instanceof ApiError && (e.status === 0 || e.status >= 500 || e.status === 429);

async function send(entry) {  // true when kept for later
  try {
    await post("/api/v1/feedback", entry);
    return false;
  } catch (e) {
    if (retryable(e)) {
      savePending([...pending().filter((p) => p.ticket_id !== entry.ticket_id), entry]);
      return true;
    }
    if (e instanceof ApiError && e.status === 401) lostToken();
    return false;  // already_rated counts as sent; other refusals cannot succeed later
  }
}

let flushing = false;
async function flush() {
  if (flushing || !pending().length) return;
  flushing = true;
  try {
    for (const entry of pending()) {
      try {
        await post("/api/v1/feedback", entry);
      } catch (e) {
        if (retryable(e)) return;  // still unreachable: keep the rest for the next try
      }
      savePending(pending().filter((p) => p.ticket_id !== entry.ticket_id));
    }
  } finally {
    flushing = false;
  }
}

// ---- start-up and live events
function lostToken() {
  if (S.socket) S.socket.stop();
  setToken(null);
  location.reload();
}

async function start() {
  apply();
  $("#comment").placeholder = t("comment_ph");
  $("#lang-toggle").textContent = getLang() === "vi" ? "EN" : "VI";
  let token = getToken();
  if (!token) {
    screen("pair");
    token = await pair("tablet", (code) => { $("#pair-code").textContent = code; });
  }
  try {
    S.me = await get("/api/v1/auth/me");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { setToken(null); return start(); }
    setTimeout(start, 3000);
    return;
  }
  S.office = await get(`/api/v1/offices/${S.me.office_id}`).catch(() => null);
  toIdle();
  S.socket = new LiveSocket({
    token, officeId: S.me.office_id,
    onSnapshot: (data, msg) => {
      if (data.office) S.office = { ...(S.office || {}), ...data.office };
      S.counter = (data.counters || []).find((c) => c.id === S.me.counter_id) || S.counter;
      if (document.body.dataset.screen === "idle") renderIdle();
      // a rating its counter still asks for (this tablet connected after the finish: rebooted, back online)
      const req = data.rating_request;
      const kept = req && req.ticket && pending().some((p) => p.ticket_id === req.ticket.id);  // rated, not yet sent
      if (req && req.ticket && !kept && document.body.dataset.screen === "idle"
          && !(S.request && S.request.ticket.id === req.ticket.id)) {
        showRequest(req, msg.at || data.at);
      }
    },
    onEvent: (msg) => {
      const d = msg.data || {};
      if (msg.type === "counter.updated" && d.counter && d.counter.id === S.me.counter_id) {
        S.counter = d.counter;
        if (document.body.dataset.screen === "idle") renderIdle();
      } else if (msg.type === "office.updated" && d.office) {
        S.office = { ...(S.office || {}), ...d.office };
        if (document.body.dataset.screen === "idle") renderIdle();
      } else if (msg.type === "feedback.request" && d.ticket) {
        showRequest(d, msg.at);
      }
    },
    onStatus: (status) => {
      document.body.classList.toggle("offline", status === "offline");
      document.body.dataset.live = status;  // "online" once the socket has its snapshot: requests reach it
      if (status === "online") flush();
      if (status === "unauthorized") lostToken();
    },
  });
  S.socket.start();
  setInterval(flush, 5000);
}

$("#lang-toggle").addEventListener("click", () => {
  setLang(getLang() === "vi" ? "en" : "vi");
  $("#lang-toggle").textContent = getLang() === "vi" ? "EN" : "VI";
  $("#comment").placeholder = t("comment_ph");
  document.querySelectorAll("#levels .level").forEach((b) => { b.querySelector(".level-label").textContent = t(b.dataset.level); });
  document.querySelectorAll("#reasons .reason").forEach((b) => { b.textContent = t(b.dataset.reason); });
  renderIdle();
});
$("#send-reasons").addEventListener("click", submit);
document.querySelectorAll("#trips .trip").forEach((b) => b.addEventListener("click", () => answerTrips(Number(b.dataset.trips))));
start();
