// The citizen's phone page /t/{track_code}: number, position, estimated wait, live; a loud, clear
// "it's your turn: counter 5" with a beep (WebAudio, nothing downloaded) and vibration when called.
import { get, ApiError } from "/static/shared/api.js";
import { LiveSocket } from "/static/shared/ws.js";
import { $ } from "/static/shared/dom.js";
import { t, setDictionary, setLang, getLang, apply, minutes } from "/static/shared/i18n.js";

setDictionary({
  vi: {
    your_number: "Số thứ tự của bạn", people_ahead: "người chờ trước bạn", est_wait: "thời gian chờ dự kiến",
    turn: "Đến lượt bạn: quầy số {n}", turn_again: "Mời bạn đến ngay: quầy số {n}",
    next: "Bạn là người tiếp theo — hãy chú ý màn hình.", waiting: "Xin vui lòng chờ. Trang này sẽ báo khi đến lượt bạn.",
    serving: "Bạn đang được phục vụ tại quầy số {n}.", done: "Đã hoàn thành. Cảm ơn bạn!",
    no_show: "Bạn đã không có mặt khi được gọi. Xin liên hệ quầy hướng dẫn.", cancelled: "Số thứ tự này đã bị huỷ.",
    unknown: "Không tìm thấy số thứ tự này.", sound_on: "Bật chuông báo", sound_ready: "Chuông báo đã bật",
    keep_open: "Giữ trang này mở để nhận thông báo khi đến lượt.", offline: "Mất kết nối — đang thử lại…",
    title: "Theo dõi lượt", no_counter: "Chưa có quầy phục vụ",
  },
  en: {
    your_number: "Your number", people_ahead: "people ahead of you", est_wait: "estimated wait",
    turn: "It's your turn: counter {n}", turn_again: "Please come now: counter {n}",
    next: "You are next — please watch the screen.", waiting: "Please wait. This page will tell you when it is your turn.",
    serving: "You are being served at counter {n}.", done: "Finished. Thank you!",
    no_show: "You were not there when called. Please ask at the help desk.", cancelled: "This ticket was cancelled.",
    unknown: "This ticket was not found.", sound_on: "Turn on the alert sound", sound_ready: "Alert sound on",
    keep_open: "Keep this page open to be told when it is your turn.", offline: "Offline — reconnecting…",
    title: "Follow your turn", no_counter: "No counter is serving this yet",
  },
});

const code = decodeURIComponent(location.pathname.split("/t/")[1] || "");
let track = null;
let audio = null;
let refreshTimer = null;
let alertedFor = null;

function render() {
  if (!track) return;
  document.body.dataset.status = track.status;
  $("#number").textContent = track.display_number;
  const svc = track.service || {};
  $("#service").textContent = getLang() === "en" && svc.name_en ? svc.name_en : (svc.name || "");
  if (track.office && track.office.name) $("#office-name").textContent = track.office.name;
  const waiting = track.status === "waiting";
  $("#facts").classList.toggle("hidden", !waiting);
  $("#ahead").textContent = track.position ?? "–";
  const unserved = track.serving_now === false;  // no counter open for it: no time promised
  $("#wait").textContent = unserved ? t("no_counter") : minutes(track.estimated_wait_s);
  $("#wait").parentElement.classList.toggle("hidden", !unserved && track.estimated_wait_s == null);
  const counter = track.counter ? track.counter.number : "";
  const called = track.status === "called";
  $("#turn").classList.toggle("hidden", !called);
  if (called) {
    $("#turn-title").textContent = t(track.recalled ? "turn_again" : "turn", { n: counter });
    $("#turn-name").textContent = track.counter && track.counter.name ? track.counter.name : "";
    document.title = t("turn", { n: counter });
  } else document.title = `${track.display_number} · ${t("title")}`;
  const text = { waiting: track.position === 0 && !unserved ? t("next") : t("waiting"), serving: t("serving", { n: counter }),
    done: t("done"), no_show: t("no_show"), cancelled: t("cancelled"), called: "" }[track.status] ?? "";
  $("#status-text").textContent = text;
  $("#status-card").classList.toggle("hidden", called);
}

async function refresh() {
  try {
    const fresh = await get(`/api/v1/track/${encodeURIComponent(code)}`, { token: null });
    track = { ...fresh, office: fresh.office || (track && track.office), recalled: track && track.recalled &&
      fresh.status === "called" };
    render();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      document.body.dataset.status = "unknown";
      $("#number").textContent = "—";
      $("#status-text").textContent = t("unknown");
    }
  }
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 250);
}

// ---- the alert: a short two-tone beep and a vibration
function audioContext() {
  if (!audio) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    audio = new Ctx();
  }
  if (audio.state === "suspended") audio.resume();
  return audio;
}

function beep() {
  const ctx = audioContext();
  if (!ctx) return false;
  const now = ctx.currentTime;
  [[880, 0], [1175, 0.28], [880, 0.56], [1175, 0.84]].forEach(([freq, at]) => {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + at);
    gain.gain.exponentialRampToValueAtTime(0.5, now + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.24);
    osc.connect(gain).connect(ctx.destination);
    osc.start(now + at);
    osc.stop(now + at + 0.26);
  });
  return true;
}

function alertCitizen(key) {
  if (alertedFor === key) return;
  alertedFor = key;
  const beeped = beep();
  if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 800]);
  document.body.dataset.alerts = String(Number(document.body.dataset.alerts || 0) + 1);
  if (beeped) document.body.dataset.beeped = "1";
}

// ---- live
function onSnapshot(data) {
  if (!data.track) return;
  track = { ...(track || {}), ...data.track };
  render();
  if (track.status === "called") alertCitizen(`called:${track.counter && track.counter.id}`);
}

function onEvent(msg) {
  const d = msg.data || {};
  if (msg.type === "queue.updated") return refreshSoon();
  if (!msg.type.startsWith("ticket.") || !d.ticket) return;
  if (msg.type === "ticket.called" || msg.type === "ticket.recalled") {
    track = { ...(track || {}), ...d.ticket, status: "called", counter: d.counter || (track && track.counter),
      recalled: msg.type === "ticket.recalled" };
    render();
    alertCitizen(`${msg.type}:${msg.seq}`);
  }
  refreshSoon();
}

function wireLanguage() {
  for (const b of document.querySelectorAll(".lang")) {
    b.classList.toggle("active", b.dataset.lang === getLang());
    b.onclick = () => {
      setLang(b.dataset.lang);
      for (const o of document.querySelectorAll(".lang")) o.classList.toggle("active", o.dataset.lang === getLang());
      render();
    };
  }
}

function start() {
  document.documentElement.lang = getLang();
  apply();
  wireLanguage();
  $("#sound").onclick = () => {
    if (beep()) { $("#sound").textContent = t("sound_ready"); $("#sound").classList.add("on"); }
  };
  refresh();
  const socket = new LiveSocket({ track: code, onSnapshot, onEvent,
    onStatus: (s) => document.body.classList.toggle("offline", s === "offline") });
  socket.start();
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
}

start();
