// The chip ID card (CCCD) at the kiosk: read the card's QR IN THE BROWSER only to greet the holder by
// the given name with the right honorific and to pre-select the elderly priority. The whole text goes
// to the server once, as `id_card_qr` in the ticket request; the server keeps only a keyed hash of the
// number and the birth year. Nothing here is stored, logged or sent anywhere else.
import { el, $ } from "/static/shared/dom.js";

export const ELDERLY_AGE = 60;  // Law on the Elderly (2009)

export const IDCARD_DICT = {
  vi: {
    card_greeting: "Kính chào {who}", card_elderly: "Đã chọn ưu tiên người cao tuổi — mời chạm vào lĩnh vực cần giải quyết.",
    card_adult: "Mời chạm vào lĩnh vực cần giải quyết.", card_scanned: "Đã quét thẻ căn cước — mời chọn lĩnh vực.",
    card_bad_title: "Không đọc được thẻ căn cước", card_bad_text: "Xin đưa mặt có mã QR của thẻ căn cước vào máy quét một lần nữa, giữ yên cho đến khi nghe tiếng bíp.",
    card_priority: "Ưu tiên người cao tuổi (theo thẻ căn cước)", card_take: "LẤY SỐ",
    hon_m_old: "Ông", hon_f_old: "Bà", hon_m: "Anh", hon_f: "Chị", hon_young: "Em", hon_any: "Quý khách",
  },
  en: {
    card_greeting: "Welcome, {who}", card_elderly: "Elderly priority selected — please touch the service you need.",
    card_adult: "Please touch the service you need.", card_scanned: "ID card scanned — please choose a service.",
    card_bad_title: "The ID card could not be read", card_bad_text: "Please hold the QR code side of the ID card under the scanner again, until it beeps.",
    card_priority: "Elderly priority (from the ID card)", card_take: "TAKE A NUMBER",
    hon_m_old: "Mr.", hon_f_old: "Mrs.", hon_m: "Mr.", hon_f: "Ms.", hon_young: "", hon_any: "",
  },
};

function ddmmyyyy(s) {
  if (!/^\d{8}$/.test(s)) return null;
  const d = +s.slice(0, 2), m = +s.slice(2, 4), y = +s.slice(4, 8);
  const date = new Date(y, m - 1, d);
  return date.getFullYear() === y && date.getMonth() === m - 1 && date.getDate() === d ? date : null;
}

export function looksLikeCard(text) { return text.includes("|"); }

// The card's QR → { qr, givenName, born, sex } (or null when it is not a card's QR); the same checks as
// the server's counters/id_card.py, so a bad scan is refused here before anything is sent.
export function readCard(text) {
  if (typeof text !== "string" || text.length > 400) return null;
  const fields = text.trim().split("|").map((f) => f.trim());
  if (fields.length !== 7) return null;
  const [number, oldId, name, born, sex, , issued] = fields;
  if (!/^\d{12}$/.test(number) || !/^(\d{9})?$/.test(oldId)) return null;
  const birth = ddmmyyyy(born);
  if (!birth || !ddmmyyyy(issued) || birth.getFullYear() < 1900) return null;
  const words = name.normalize("NFC").split(/\s+/).filter(Boolean);
  return { qr: text.trim(), givenName: words.length ? words[words.length - 1] : "", birth, sex: sex.normalize("NFC") };
}

export function ageOn(card, today = new Date()) {
  const b = card.birth;
  const before = today.getMonth() < b.getMonth() || (today.getMonth() === b.getMonth() && today.getDate() < b.getDate());
  return today.getFullYear() - b.getFullYear() - (before ? 1 : 0);
}

export function isElderly(card, today) { return ageOn(card, today) >= ELDERLY_AGE; }

// Ông/Bà for 60+, Anh/Chị for adults, Em for the young (Vietnamese address by age and sex).
export function honorificKey(card, today) {
  const age = ageOn(card, today);
  const s = card.sex.toLowerCase();
  const male = s === "nam" || s === "male", female = s === "nữ" || s === "nu" || s === "female";
  if (age < 18) return "hon_young";
  if (!male && !female) return "hon_any";
  if (age >= ELDERLY_AGE) return male ? "hon_m_old" : "hon_f_old";
  return male ? "hon_m" : "hon_f";
}

export function greeting(card, t, today) {
  const who = [t(honorificKey(card, today)), card.givenName].filter(Boolean).join(" ");
  return t("card_greeting", { who });
}

// ---- on the kiosk: greet, pre-select, hand the QR to the ticket request once, then forget it

const GREET_MS = 8000;   // the name shows for a moment only
const KEEP_MS = 60000;   // an unused scan is forgotten (the next citizen must not inherit it)
let ui = null;  // { t, message }
let pending = null;  // { qr, elderly }
let timers = [];

export function setupCard(context) {
  ui = context;
  const box = el("div", { id: "card-greeting", class: "card-greeting hidden", role: "status", "aria-live": "assertive" },
    el("div", { class: "card-hello", id: "card-hello" }),
    el("div", { class: "card-next", id: "card-next" }));
  $("#services").before(box);
}

export function pendingCard() { return pending; }

export function forgetCard() {
  pending = null;
  timers.forEach(clearTimeout);
  timers = [];
  const box = $("#card-greeting");
  if (box) box.classList.add("hidden");
  const hello = $("#card-hello");
  if (hello) hello.textContent = "";
}

export function cardRefused() {
  forgetCard();
  ui.message("card", ui.t("card_bad_title"), ui.t("card_bad_text"));
}

// `onPriorityStep`: scanned after the service was chosen; the greeting shows above the priority choice.
export function cardScanned(text, onPriorityStep = false) {
  forgetCard();
  const card = readCard(text);
  if (!card) return cardRefused();
  if (onPriorityStep) $("#chosen-service").before($("#card-greeting"));
  else $("#services").before($("#card-greeting"));
  const elderly = isElderly(card);
  pending = { qr: card.qr, elderly };
  $("#card-hello").textContent = greeting(card, ui.t);
  $("#card-next").textContent = ui.t(elderly ? "card_elderly" : "card_adult");
  const box = $("#card-greeting");
  box.classList.toggle("elderly", elderly);
  box.classList.remove("hidden");
  timers.push(setTimeout(() => { $("#card-hello").textContent = ui.t("card_scanned"); }, GREET_MS));
  timers.push(setTimeout(forgetCard, KEEP_MS));
  if (onPriorityStep) cardOnPriorityScreen();
}

// On the priority step: for a holder aged 60+, the big button already takes an elderly number.
export function cardOnPriorityScreen() {
  const elderly = !!(pending && pending.elderly);
  const sub = $("#no-priority .go-sub");
  sub.textContent = ui.t(elderly ? "card_priority" : "no_priority");
  $("#no-priority").classList.toggle("card-elderly", elderly);
  for (const b of document.querySelectorAll(".priority")) {
    b.classList.toggle("preselected", elderly && b.dataset.priority === "elderly");
  }
}
