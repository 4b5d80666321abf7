// The one WebSocket client of every page: hello with since_seq, replay or snapshot, pong to pings,
// reconnect with backoff, and resume where it left off so no event is missed.
// A derived frame (queue.updated) carries the seq of the latest event it reflects and takes no slot of
// its own: it is neither a duplicate nor a gap, and it does not move the resume point.
const DERIVED = new Set(["queue.updated"]);

export class LiveSocket {
  constructor({ token, officeId, track, onEvent, onSnapshot, onStatus }) {
    this.token = token; this.officeId = officeId; this.track = track;
    this.onEvent = onEvent || (() => {}); this.onSnapshot = onSnapshot || (() => {});
    this.onStatus = onStatus || (() => {});
    this.seq = null; this.backoff = 500; this.closedByUs = false; this.online = false;
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams();
    if (this.token) q.set("token", this.token);
    if (this.officeId) q.set("office_id", this.officeId);
    if (this.track) q.set("track", this.track);
    return `${proto}//${location.host}/ws?${q}`;
  }

  start() {
    this.closedByUs = false;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", since_seq: this.seq }));
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.type === "ping") { ws.send('{"type":"pong"}'); return; }
      if (msg.type === "error") { this.onStatus("error", msg.data); return; }
      if (!this.online) { this.online = true; this.backoff = 500; this.onStatus("online"); }
      if (msg.type === "snapshot") { this.seq = msg.seq; this.onSnapshot(msg.data, msg); return; }
      if (typeof msg.seq === "number" && !DERIVED.has(msg.type)) {
        if (this.seq !== null && msg.seq <= this.seq) return;  // already seen
        this.seq = msg.seq;
      }
      this.onEvent(msg);
    };
    ws.onclose = (ev) => {
      this.online = false;
      this.onStatus("offline", { code: ev.code });
      if (this.closedByUs || ev.code === 4401 || ev.code === 4001 || ev.code === 4403) {
        if (ev.code === 4401 || ev.code === 4001) this.onStatus("unauthorized", { code: ev.code });
        return;
      }
      const wait = this.backoff + Math.random() * 300;
      this.backoff = Math.min(this.backoff * 2, 10000);
      setTimeout(() => this.start(), wait);
    };
  }

  stop() { this.closedByUs = true; if (this.ws) this.ws.close(); }
}
