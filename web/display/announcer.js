// One player, one queue: announcements are spoken in the order they arrive and never overlap.
// Each WAV (chime + sentence, repeated per office setting) is fetched as soon as it is queued, so the
// next one is ready when the current one ends. State is plain data, exposed for tests and diagnostics.

const MAX_PLAYED = 50;
const FALLBACK_LIMIT_MS = 60000;  // a file whose length is unknown may not hold the queue longer

export class Announcer {
  constructor({ onBlocked = () => {}, onUnblocked = () => {} } = {}) {
    this.queue = [];      // [{id, number, counter, url, queued_at}]
    this.playing = null;  // {..., started_at} while audible
    this.played = [];     // [{..., started_at, ended_at, outcome}]
    this.blocked = false; // the browser refused to play without a user gesture
    this.audio = new Audio();
    this.audio.preload = "auto";
    this.blobs = new Map();  // id -> Promise<object URL | null>, kept out of the exposed state
    this.onBlocked = onBlocked; this.onUnblocked = onUnblocked;
  }

  /** Queue an announcement ({id, audio_url, ...}); an id already queued, playing or played is ignored. */
  enqueue(a, extra = {}) {
    const id = a.id;
    if (this.blobs.has(id)) return false;
    const item = { id, url: a.audio_url, text: a.text, ...extra, queued_at: Date.now() };
    this.blobs.set(id, fetchAudio(a.audio_url));
    this.queue.push(item);
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
    const src = (await this.blobs.get(item.id)) || item.url;
    let outcome;
    try {
      outcome = await this.playOnce(src, item);
    } catch (e) {
      outcome = e && e.name === "NotAllowedError" ? "blocked" : "error";
    }
    if (outcome === "blocked") {  // keep it at the head of the queue until sound is enabled
      this.playing = null; this.blocked = true; delete item.started_at;
      this.onBlocked();
      return;
    }
    this.queue.shift();
    this.played.push({ ...item, ended_at: Date.now(), outcome });
    if (this.played.length > MAX_PLAYED) this.played.shift();
    const url = await this.blobs.get(item.id);
    if (url) URL.revokeObjectURL(url);
    this.playing = null;
    this.pump();
  }

  playOnce(src, item) {
    const audio = this.audio;
    return new Promise((resolve, reject) => {
      let limit = null;
      const done = (outcome) => {
        clearTimeout(limit);
        audio.removeEventListener("ended", onEnded);
        audio.removeEventListener("error", onError);
        audio.removeEventListener("playing", onPlaying);
        audio.removeEventListener("loadedmetadata", onMeta);
        resolve(outcome);
      };
      const onEnded = () => done("ended");
      const onError = () => done("error");
      const onPlaying = () => { if (!item.started_at) item.started_at = Date.now(); };
      const arm = (ms) => { clearTimeout(limit); limit = setTimeout(() => { audio.pause(); done("timeout"); }, ms); };
      const onMeta = () => { if (isFinite(audio.duration)) arm(audio.duration * 1000 + 5000); };
      audio.addEventListener("ended", onEnded);
      audio.addEventListener("error", onError);
      audio.addEventListener("playing", onPlaying);
      audio.addEventListener("loadedmetadata", onMeta);
      arm(FALLBACK_LIMIT_MS);
      audio.src = src;
      audio.play().catch((e) => {
        clearTimeout(limit);
        audio.removeEventListener("ended", onEnded);
        audio.removeEventListener("error", onError);
        audio.removeEventListener("playing", onPlaying);
        audio.removeEventListener("loadedmetadata", onMeta);
        reject(e);
      });
    });
  }

  /** Plain data for window.qmsDisplay (tests read it with page.evaluate). */
  state() {
    return { queue: this.queue, playing: this.playing, played: this.played, blocked: this.blocked };
  }
}

async function fetchAudio(url) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await fetch(url);
      if (res.ok) return URL.createObjectURL(await res.blob());
    } catch { /* server briefly away: try again */ }
    await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
  }
  return null;  // let the <audio> element try the URL itself
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
