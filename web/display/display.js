// The lobby display: pair once, follow the office's live feed, show every call at once and speak it
// through one queued player. After an outage the shared socket resumes by since_seq, so a call made
// meanwhile is shown; it is spoken only if still recent.
import { get, ApiError } from "/static/shared/api.js";
import { getToken, setToken, pair } from "/static/shared/auth.js";
import { LiveSocket } from "/static/shared/ws.js";
import { setDictionary, setLang, getLang, apply, t } from "/static/shared/i18n.js";
import { $ } from "/static/shared/dom.js";
import { STRINGS } from "./strings.js";
import { Board } from "./board.js";
import { Announcer, autoplayAllowed } from "./announcer.js";

const SPEAK_IF_YOUNGER_MS = 60000;
const CALL_TYPES = new Set(["ticket.called", "ticket.recalled"]);

const board = new Board();
const announcer = new Announcer({
  onBlocked: () => $("#sound-overlay").classList.remove("hidden"),
  onUnblocked: () => $("#sound-overlay").classList.add("hidden"),
});
let serverSkewMs = 0;  // local clock minus server clock, from the last snapshot
let officeOffsetMin = null;  // the office's UTC offset (from the server's timestamps), for the clock
let socket = null;

// Tests and diagnostics read the page's state here (plain data only).
const exposed = {
  online: false, seq: null, snapshots: 0, shown: [], skipped_speech: [],
  get queue() { return announcer.queue; },
  get playing() { return announcer.playing; },
  get played() { return announcer.played; },
  get blocked() { return announcer.blocked; },
};
window.qmsDisplay = exposed;

function onSnapshot(data, msg) {
  if (data.at) {
    serverSkewMs = Date.now() - Date.parse(data.at);
    const m = data.at.match(/([+-])(\d\d):(\d\d)$/);
    officeOffsetMin = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    tickClock();
  }
  if (data.office && data.office.announcement_repeat) announcer.repeat = data.office.announcement_repeat;
  board.snapshot(data);
  exposed.seq = msg.seq;
  exposed.snapshots += 1;
}

function onEvent(msg) {
  exposed.seq = msg.seq;
  const data = msg.data || {};
  if (CALL_TYPES.has(msg.type)) return onCall(msg, data);
  if (msg.type === "counter.updated" && data.counter) board.counterUpdated(data.counter);
  else if (msg.type === "queue.updated") board.queueUpdated(data.services);
  else if (msg.type === "service.updated" && data.service) board.serviceUpdated(data.service);
  else if (msg.type === "office.updated" && data.office) {
    if (data.office.announcement_repeat) announcer.repeat = data.office.announcement_repeat;
    board.officeUpdated(data.office);
  }
}

function onCall(msg, data) {
  const call = board.called(data);
  exposed.shown.push({ type: msg.type, seq: msg.seq, number: call.number, counter: call.counter_number,
    announcement_id: call.id, shown_at: Date.now() });
  if (exposed.shown.length > 100) exposed.shown.shift();
  const ann = data.announcement;
  if (!ann || !ann.audio_url) return;
  const age = Date.now() - serverSkewMs - Date.parse(msg.at);
  if (age > SPEAK_IF_YOUNGER_MS) {  // replayed after an outage: shown, but no longer worth saying
    exposed.skipped_speech.push({ id: ann.id, number: call.number, age_ms: age });
    return;
  }
  announcer.enqueue(ann, { number: call.number, counter: call.counter_number, seq: msg.seq });
}

function onStatus(status) {
  exposed.online = status === "online";
  document.body.classList.toggle("offline", status === "offline" || status === "error");
  if (status === "unauthorized") { setToken(null); location.reload(); }  // revoked: pair again
}

// ---- start-up: token (or pairing), who we are, sound, live feed
async function token() {
  let tok = getToken();
  for (;;) {
    if (!tok) tok = await pairing();
    try {
      const me = await get("/api/v1/auth/me", { token: tok });
      return { tok, me };
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) { setToken(null); tok = null; continue; }
      await new Promise((r) => setTimeout(r, 3000));  // server not up yet: keep trying
    }
  }
}

async function pairing() {
  const overlay = $("#pair-overlay");
  overlay.classList.remove("hidden");
  const tok = await pair("display", (code, expires) => {
    $("#pair-code").textContent = code;
    // How long the code lasts, not a time of day: the PC's time zone may not be the office's.
    const min = Math.round((Date.parse(expires) - Date.now()) / 60000);
    $("#pair-expires").textContent = min >= 1 && min <= 120 ? t("pair_expires", { min }) : "";
  });
  overlay.classList.add("hidden");
  return tok;
}

function tickClock() {
  // Office time: the server's clock in the office's time zone, whatever the display PC is set to. Before
  // pairing the page does not know its office, so it shows no clock rather than the PC's own time.
  if (officeOffsetMin === null) { $("#clock-time").textContent = ""; $("#clock-date").textContent = ""; return; }
  const now = new Date(Date.now() - serverSkewMs + officeOffsetMin * 60000);
  const p = (n) => String(n).padStart(2, "0");
  $("#clock-time").textContent = `${p(now.getUTCHours())}:${p(now.getUTCMinutes())}`;
  const day = t("weekdays").split(",")[now.getUTCDay()];
  $("#clock-date").textContent = `${day}, ${p(now.getUTCDate())}/${p(now.getUTCMonth() + 1)}/${now.getUTCFullYear()}`;
  if (tickClock.day !== undefined && tickClock.day !== now.getUTCDate()) location.reload();  // a new office day
  tickClock.day = now.getUTCDate();
}

async function main() {
  setDictionary(STRINGS);
  const forced = new URLSearchParams(location.search).get("lang");
  if (forced === "vi" || forced === "en") setLang(forced); else apply();
  document.documentElement.lang = getLang();
  tickClock(); setInterval(tickClock, 1000);
  document.addEventListener("keydown", (e) => {  // a keyboard on the display PC can switch language
    if (e.key === "l" || e.key === "L") { setLang(getLang() === "vi" ? "en" : "vi"); board.renderAll(); }
  });
  $("#sound-on").addEventListener("click", () => announcer.unlock());
  addEventListener("resize", () => board.renderCounters());  // portrait and landscape lay tiles out differently
  if (!autoplayAllowed()) { announcer.blocked = true; $("#sound-overlay").classList.remove("hidden"); }

  const { tok, me } = await token();
  socket = new LiveSocket({ token: tok, officeId: me.office_id, onEvent, onSnapshot, onStatus });
  socket.start();
}

main();
