// What the lobby screen shows: the office, the counters' current tickets, the latest call, the last
// calls, the waiting per service, the no-wait banner and the ticker. Built from a snapshot, then kept
// current by events. Every text from the server goes through textContent (el() / .textContent).
import { el, $, clear } from "/static/shared/dom.js";
import { t, getLang } from "/static/shared/i18n.js";

const RECENT_SHOWN = 8;
const FLASH_MS = 3300;  // the flash animation lasts 3 s

export class Board {
  constructor() {
    this.office = null;
    this.programs = {};
    this.counters = new Map();  // id -> counter (number, name, state, current_ticket)
    this.services = new Map();  // id -> service (code, name, waiting, estimated_wait_s)
    this.recent = [];           // [{id, number, counter_number, counter_name, at}] newest first
    this.latest = null;
    this.flashTimer = null;
  }

  // ---- state from the server
  snapshot(data) {
    this.office = data.office || this.office;
    this.programs = data.programs || {};
    this.counters = new Map((data.counters || []).map((c) => [c.id, c]));
    this.services = new Map((data.services || []).map((s) => [s.id, s]));
    this.recent = (data.recent_calls || []).map((r) => ({
      id: r.id, number: r.display_number, counter_number: r.counter_number,
      counter_name: (this.counters.get(r.counter_id) || {}).name || "", at: r.at,
    }));
    this.latest = this.recent[0] || null;
    this.renderAll();
  }

  /** A call or recall: shown at once (hero, counter tile, last calls), flashing. */
  called(data) {
    const ticket = data.ticket || {}, counter = data.counter || {}, ann = data.announcement || {};
    const known = this.counters.get(counter.id);
    if (known) {
      known.current_ticket = ticket;
      if (known.state === "closed") known.state = "open";
    }
    const call = { id: ann.id ?? ticket.id, number: ticket.display_number, counter_number: counter.number,
      counter_name: counter.name || "", at: ticket.called_at };
    this.recent = [call, ...this.recent.filter((r) => r.id !== call.id)].slice(0, 50);
    this.latest = call;
    this.renderHero(true);
    this.renderCounters(counter.id);
    this.renderRecent();
    return call;
  }

  counterUpdated(c) {
    const old = this.counters.get(c.id) || {};
    this.counters.set(c.id, { ...old, ...c });
    this.renderCounters();
  }

  queueUpdated(rows) {
    for (const r of rows || []) {
      const id = r.id ?? r.service_id;
      const s = this.services.get(id);
      if (s) Object.assign(s, { waiting: r.waiting, estimated_wait_s: r.estimated_wait_s, serving_now: r.serving_now });
      else this.services.set(id, { id, code: r.code, name: r.code, ...r });
    }
    this.renderWaiting();
  }

  serviceUpdated(s) {
    this.services.set(s.id, { ...(this.services.get(s.id) || {}), ...s });
    this.renderWaiting();
  }

  officeUpdated(o) {
    this.office = { ...(this.office || {}), ...o };
    this.renderOffice();
  }

  // ---- rendering
  renderAll() {
    this.renderOffice(); this.renderHero(false); this.renderCounters(); this.renderRecent();
    this.renderWaiting();
  }

  renderOffice() {
    const name = (this.office && this.office.name) || "";
    $("#office-name").textContent = name;
    document.title = name ? name + " – QMS" : "QMS";
    const noWait = !!(this.programs && this.programs.no_wait_day);
    $("#no-wait").classList.toggle("hidden", !noWait);
    document.body.classList.toggle("no-wait-day", noWait);
    const target = (this.programs.targets && this.programs.targets.wait_min) || 15;
    $("#no-wait-text").textContent = t("no_wait_text", { min: target });
    this.renderTicker();
  }

  renderTicker() {
    const parts = [t("ticker_welcome", { office: (this.office && this.office.name) || "" }), t("ticker_keep"),
      t("ticker_qr"), t("ticker_priority")];
    const hours = this.programs && this.programs.hours_today;
    if (hours && hours.length) parts.push(t("ticker_hours", { hours: hours.map((w) => w.join("–")).join(", ") }));
    if (this.programs && this.programs.no_wait_day) {
      parts.unshift(t("no_wait_title") + ": " + t("no_wait_text", { min: (this.programs.targets || {}).wait_min || 15 }));
    }
    const text = parts.join("   •   ");
    const span = $("#ticker-text");
    if (span.textContent !== text) span.textContent = text;
  }

  renderHero(flash) {
    const hero = $("#hero"), call = this.latest;
    hero.classList.toggle("idle", !call);
    $("#hero-label").textContent = call ? t("hero_call") : t("hero_idle");
    $("#hero-number").textContent = call ? call.number || "" : "";
    $("#hero-counter").textContent = call ? String(call.counter_number ?? "") : "";
    $("#hero-counter-name").textContent = call ? call.counter_name : "";
    if (flash) restartAnimation(hero, "flash");
  }

  renderCounters(flashId) {
    const grid = $("#counters");
    // Every counter, closed ones too (dimmed): the lobby sees which desks exist and which are staffed.
    const shown = [...this.counters.values()].sort((a, b) => a.number - b.number);
    const open = shown.filter((c) => c.state === "open" || c.state === "paused").length;
    $("#no-counters").classList.toggle("hidden", open > 0);
    const [cols, rows] = gridShape(shown.length, innerHeight > innerWidth);
    grid.dataset.count = String(shown.length);
    grid.style.setProperty("--cols", String(cols));
    grid.style.setProperty("--rows", String(rows));
    const ids = shown.map((c) => String(c.id));
    const same = ids.length === grid.children.length && ids.every((id, i) => grid.children[i].dataset.counterId === id);
    if (!same) {  // tiles are rebuilt only when the set of counters changes, so a flash keeps running
      clear(grid);
      for (const c of shown) grid.append(tileSkeleton(c));
    }
    shown.forEach((c, i) => {
      const tile = grid.children[i];
      fillTile(tile, c);
      if (flashId !== undefined && c.id === flashId) restartAnimation(tile, "flash");
    });
  }

  renderRecent() {
    const list = clear($("#recent"));
    const rows = this.recent.slice(0, RECENT_SHOWN);
    $("#no-recent").classList.toggle("hidden", rows.length > 0);
    rows.forEach((r, i) => {
      list.append(el("li", { class: i === 0 ? "newest" : "" },
        el("span", { class: "recent-number", text: r.number || "" }),
        el("span", { class: "recent-arrow", text: "➜" }),
        el("span", { class: "recent-counter", text: t("counter") + " " + (r.counter_number ?? "") }),
        el("span", { class: "recent-time", text: clockOf(r.at) })));
    });
  }

  renderWaiting() {
    const list = clear($("#waiting"));
    const en = getLang() === "en";
    const rows = [...this.services.values()].filter((s) => s.active !== false);
    for (const s of rows) {
      const name = (en && s.name_en) || s.name || "";
      list.append(el("li", { class: s.waiting ? "" : "none-waiting" },
        el("span", { class: "svc-code", text: s.code || "" }),
        el("span", { class: "svc-name", text: name }),
        el("span", { class: "svc-waiting", text: String(s.waiting ?? 0) }),
        el("span", { class: "svc-wait", text: !s.waiting ? "–"  // no counter open for it: no time promised
          : s.serving_now === false ? t("no_counter") : waitText(s.estimated_wait_s) })));
    }
  }
}

/** Columns and rows for n tiles: wide rows first (the latest call above needs the height), at most 6 across. */
export function gridShape(n, portrait) {
  if (n <= 0) return [1, 1];
  const perRow = portrait ? [1, 2, 3, 4, 3, 3, 4, 4, 3, 5, 4, 4] : [1, 2, 3, 4, 5, 3, 4, 4, 5, 5, 4, 4];
  const cols = n <= perRow.length ? perRow[n - 1] : Math.min(6, Math.ceil(Math.sqrt(n * (portrait ? 1.2 : 1.6))));
  return [cols, Math.ceil(n / cols)];
}

function tileSkeleton(c) {
  return el("div", { class: "counter-tile", dataset: { counterId: String(c.id) } },
    el("div", { class: "tile-head" }, el("span", { class: "tile-label" }), el("span", { class: "tile-number" })),
    el("div", { class: "tile-ticket" }), el("div", { class: "tile-name" }), el("div", { class: "tile-state" }));
}

function fillTile(tile, c) {
  const cur = c.current_ticket && ["called", "serving"].includes(c.current_ticket.status) ? c.current_ticket : null;
  tile.classList.toggle("paused", c.state === "paused");
  tile.classList.toggle("closed", c.state !== "open" && c.state !== "paused");
  tile.classList.toggle("free", !cur);
  setText(tile.querySelector(".tile-label"), t("counter"));
  setText(tile.querySelector(".tile-number"), String(c.number));
  setText(tile.querySelector(".tile-ticket"), cur ? cur.display_number : "—");
  const plain = !c.name || /^(quầy|counter)\s*\d+$/i.test(c.name.trim());  // "Quầy 3" says nothing new
  setText(tile.querySelector(".tile-name"), plain ? "" : c.name);
  const state = c.state === "paused" ? t("paused") : c.state !== "open" ? t("closed") : cur ? t("serving") : t("free");
  setText(tile.querySelector(".tile-state"), state);
}

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

function waitText(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return t("minutes", { n: Math.max(1, Math.round(seconds / 60)) });
}

function clockOf(iso) {
  const m = typeof iso === "string" && iso.match(/T(\d\d:\d\d)/);
  return m ? m[1] : "";
}

function restartAnimation(node, cls) {
  node.classList.remove(cls);
  void node.offsetWidth;  // reflow, so the animation runs again for a repeated call
  node.classList.add(cls);
  setTimeout(() => node.classList.remove(cls), FLASH_MS);
}
