// One player, one queue: announcements are spoken in the order they arrive and never overlap, and the
// voice keeps up with the screen at peak. Each announcement is played in parts: a chime, the sentence,
// and the sentence again (per the office's announcement_repeat) only while nothing else waits. When a
// backlog forms (and for the call right after it) the chime is the short one and the sentence is said a
// little faster, just enough for every waiting call to be said once within LAG_BOUND_MS of its showing;
// in a burst that even MAX_RATE cannot absorb, the short form "Số A023, quầy 5". A part is never cut off.
// The sentence is fetched as soon as a call is queued, so it is ready when its turn comes. State is plain
// data, exposed for tests and diagnostics.

const MAX_PLAYED = 50;
const FALLBACK_LIMIT_MS = 60000;  // a file whose length is unknown may not hold the queue longer
export const LAG_BOUND_MS = 20000;  // a call is heard to its end within this of its showing...
const LAG_MARGIN_MS = 2000;         // ...planned with this to spare (fetching, starting a clip)
export const MAX_RATE = 1.35;       // the fastest the sentence is said: still clear to an older ear
const BACKLOG_RATE = 1.15;          // once calls queue up, at least this: more calls usually follow
const SHORT_FORM_QUEUE = 3;         // from this many waiting, the short form ("Số A023, quầy 5") is fetched too
const GAP_AFTER_CHIME_MS = { full: 350, short: 100 };
const GAP_BETWEEN_MS = 200;         // between two announcements
const BACKLOG_TAIL_MS = 2000;       // the one right after a backlog still gets the short chime: all are listening
const GAP_REPEAT_MS = 700;          // before the sentence is said again

export class Announcer {
  constructor({ onBlocked = () => {}, onUnblocked = () => {}, chimeUrl = "/api/v1/voice/chime.wav",
    player = null } = {}) {
    this.queue = [];      // [{id, number, counter, url, queued_at}]
    this.playing = null;  // {..., started_at} while audible
    this.played = [];     // [{..., started_at, ended_at, outcome, chime, repeats, rate}]
    this.blocked = false; // the browser refused to play without a user gesture
    this.lastEnded = 0;   // when the last announcement ended
    this.repeat = 2;      // the office's announcement_repeat: how often the sentence is said when all is quiet
    this.player = player || new MediaPlayer();  // tests may give their own (same play() contract)
    this.clips = new Map();    // id -> Promise<{url, seconds} | null>, kept out of the exposed state
    this.seconds = new Map();  // id -> the sentence's length once fetched (for planning the pace)
    this.shorts = new Map();   // id -> Promise of the short form, fetched only when calls pile up
    this.shortSeconds = new Map();
    this.chimes = {};           // kind -> Promise<{url, seconds} | null>
    this.chimeLength = {};      // kind -> seconds, once fetched
    for (const kind of ["full", "short"]) {
      this.chimes[kind] = fetchClip(chimeUrl + "?length=" + kind);
      this.chimes[kind].then((c) => { if (c) this.chimeLength[kind] = c.seconds; });
    }
    this.onBlocked = onBlocked; this.onUnblocked = onUnblocked;
  }

  /** Queue an announcement ({id, audio_url, ...}); an id already queued, playing or played is ignored. */
  enqueue(a, extra = {}) {
    const id = a.id;
    if (this.clips.has(id)) return false;
    const item = { id, url: a.audio_url, text: a.text, ...extra, queued_at: Date.now() };
    const clip = fetchClip(withPart(a.audio_url));
    clip.then((c) => { if (c) this.seconds.set(id, c.seconds); });
    this.clips.set(id, clip);
    this.queue.push(item);
    if (this.queue.length >= SHORT_FORM_QUEUE) {
      for (const q of this.queue) {
        if (this.shorts.has(q.id)) continue;
        const short = fetchClip(withPart(q.url, "short"));
        short.then((c) => { if (c) this.shortSeconds.set(q.id, c.seconds); });
        this.shorts.set(q.id, short);
      }
    }
    this.pump();
    return true;
  }

  /** Called from a user gesture: retry what the browser refused. */
  async unlock() {
    this.blocked = false;
    try {
      const ctx = new (window.AudioContext || window.webkitAudioContext)();
      await ctx.resume(); await ctx.close();
    } catch { /* no Web Audio: the <audio> element alone will do */ }
    this.onUnblocked();
    this.pump();
  }

  async pump() {
    if (this.playing || this.blocked || this.queue.length === 0) return;
    const item = this.queue[0];
    this.playing = item;  // taken before any await, so a second pump() waits its turn
    let outcome;
    try {
      outcome = await this.speak(item);
    } catch (e) {
      outcome = e && e.name === "NotAllowedError" ? "blocked" : "error";
      item.error = String(e);
    }
    if (outcome === "blocked") {  // keep it at the head of the queue until sound is enabled
      this.playing = null; this.blocked = true; delete item.started_at;
      this.onBlocked();
      return;
    }
    this.queue.shift();
    this.played.push({ ...item, ended_at: Date.now(), outcome });
    if (this.played.length > MAX_PLAYED) this.played.shift();
    const clip = await this.clips.get(item.id);
    if (clip) URL.revokeObjectURL(clip.url);
    this.seconds.delete(item.id);
    const short = this.shorts.has(item.id) ? await this.shorts.get(item.id) : null;
    if (short) URL.revokeObjectURL(short.url);
    this.shorts.delete(item.id); this.shortSeconds.delete(item.id);
    this.playing = null;
    this.lastEnded = Date.now();
    if (this.queue.length) await sleep(GAP_BETWEEN_MS);
    this.pump();
  }

  /** Chime, sentence, and the repeats while nothing else waits. Returns the outcome of the last part. */
  async speak(item) {
    const sentence = await this.clips.get(item.id);
    if (!sentence) {  // no sentence part (server of an older version, or away): the whole file, once
      item.chime = "whole"; item.repeats = 1; item.rate = 1;
      return this.playOnce(item.url, item, 1);
    }
    const kind = this.queue.length > 1 || Date.now() - this.lastEnded < BACKLOG_TAIL_MS ? "short" : "full";
    item.chime = kind;
    const chime = await this.chimes[kind];
    if (chime) {
      const out = await this.playOnce(chime.url, item, 1);
      if (out !== "ended") return out;
      await sleep(GAP_AFTER_CHIME_MS[kind]);
    }
    if (sentence.seconds === 0) { item.repeats = 0; item.rate = 1; return "ended"; }  // voice off: chime only
    // The office's sentence, just fast enough; when even MAX_RATE would leave a waiting call beyond the
    // bound (a burst of calls), the short form if it is at hand.
    let said = sentence, need = this.pace(sentence.seconds, false);
    item.form = "full";
    if (need > MAX_RATE && this.shortSeconds.has(item.id)) {
      const short = await this.shorts.get(item.id);
      if (short && short.seconds > 0) { said = short; need = this.pace(short.seconds, true); item.form = "short"; }
    }
    item.rate = Math.round(Math.min(need, MAX_RATE) * 100) / 100;
    let out = await this.playOnce(said.url, item, item.rate);
    item.said_at = Date.now();  // heard in full once: the lag that LAG_BOUND_MS bounds ends here
    item.repeats = 1;
    while (out === "ended" && item.repeats < this.repeat && this.queue.length === 1) {
      await sleep(GAP_REPEAT_MS);
      if (this.queue.length > 1) break;  // someone was called meanwhile: their turn first
      out = await this.playOnce(sentence.url, item, 1);
      item.repeats += 1;
    }
    return out;
  }

  /** The playback rate the sentence starting now needs: 1 unless the calls waiting behind it would otherwise
   *  be said later than LAG_BOUND_MS after their showing; then just fast enough (the caller caps it).
   *  `short`: plan with the short forms of the others too. */
  pace(seconds, short) {
    const now = Date.now();
    const shortChime = this.chimeSeconds("short") * 1000 + GAP_AFTER_CHIME_MS.short + GAP_BETWEEN_MS;
    let speech = 0, fixed = 0, rate = this.queue.length > 1 ? BACKLOG_RATE : 1;
    this.queue.forEach((q, i) => {
      const known = short ? this.shortSeconds.get(q.id) : this.seconds.get(q.id);
      speech += (i === 0 ? seconds : known ?? seconds) * 1000;
      if (i > 0) fixed += shortChime;
      const room = q.queued_at + LAG_BOUND_MS - LAG_MARGIN_MS - now - fixed;
      rate = Math.max(rate, room > 0 ? speech / room : MAX_RATE);
    });
    return rate;
  }

  chimeSeconds(kind) {
    return this.chimeLength[kind] ?? (kind === "short" ? 0.5 : 1.54);
  }

  playOnce(src, item, rate) {
    return this.player.play(src, rate, () => { if (!item.started_at) item.started_at = Date.now(); });
  }

  /** Plain data for window.qmsDisplay (tests read it with page.evaluate). */
  state() {
    return { queue: this.queue, playing: this.playing, played: this.played, blocked: this.blocked };
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Plays one clip at a time through an <audio> element. play() resolves "ended", "error" or "timeout"
 *  when the clip is over (calling onStart when sound begins) and rejects when the browser refuses. */
export class MediaPlayer {
  constructor() {
    this.audio = new Audio();
    this.audio.preload = "auto";
    this.audio.preservesPitch = true;
  }

  play(src, rate, onStart) {
    const audio = this.audio;
    return new Promise((resolve, reject) => {
      let limit = null;
      const off = () => {
        clearTimeout(limit);
        audio.removeEventListener("ended", onEnded);
        audio.removeEventListener("error", onError);
        audio.removeEventListener("playing", onStart);
        audio.removeEventListener("loadedmetadata", onMeta);
      };
      const done = (outcome) => { off(); resolve(outcome); };
      const onEnded = () => done("ended");
      const onError = () => done("error");
      const arm = (ms) => { clearTimeout(limit); limit = setTimeout(() => { audio.pause(); done("timeout"); }, ms); };
      const onMeta = () => { if (isFinite(audio.duration)) arm((audio.duration * 1000) / rate + 5000); };
      audio.addEventListener("ended", onEnded);
      audio.addEventListener("error", onError);
      audio.addEventListener("playing", onStart);
      audio.addEventListener("loadedmetadata", onMeta);
      arm(FALLBACK_LIMIT_MS);
      audio.src = src;
      audio.defaultPlaybackRate = rate; audio.playbackRate = rate;  // a new src resets the rate
      audio.play().catch((e) => { off(); reject(e); });
    });
  }
}

function withPart(url, part = "sentence") {
  const u = new URL(url, location.href);
  u.searchParams.set("part", part);
  return u.pathname + u.search;
}

/** A WAV fetched into a blob URL, with its length read from the header. */
async function fetchClip(url) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await fetch(url);
      if (res.ok) {
        const buf = await res.arrayBuffer();
        return { url: URL.createObjectURL(new Blob([buf], { type: "audio/wav" })), seconds: wavSeconds(buf) };
      }
      if (res.status >= 400 && res.status < 500) return null;  // not there: no use asking again
    } catch { /* server briefly away: try again */ }
    await sleep(500 * (attempt + 1));
  }
  return null;
}

/** Seconds of a PCM WAV: the data chunk's size over the byte rate in its fmt chunk. */
export function wavSeconds(buf) {
  const v = new DataView(buf);
  let pos = 12, byteRate = 0;
  while (pos + 8 <= v.byteLength) {
    const id = String.fromCharCode(v.getUint8(pos), v.getUint8(pos + 1), v.getUint8(pos + 2), v.getUint8(pos + 3));
    const size = v.getUint32(pos + 4, true);
    if (id === "fmt ") byteRate = v.getUint32(pos + 16, true);
    if (id === "data") return byteRate ? size / byteRate : 0;
    pos += 8 + size + (size & 1);
  }
  return 0;
}

/** Whether this browser lets a page play sound before any user gesture. */
export function autoplayAllowed() {
  try {
    if (navigator.getAutoplayPolicy) return navigator.getAutoplayPolicy("mediaelement") === "allowed";
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return true;
    const ctx = new Ctx();
    const ok = ctx.state === "running";
    ctx.close();
    return ok;
  } catch { return true; }
}
