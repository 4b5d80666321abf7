// The head's dashboard: what needs a decision now (alerts, staffing), then queues, counters,
// programme service levels and the day's charts; live over the WebSocket (refresh throttled).
import { ApiError, get } from "/static/shared/api.js";
import { getToken } from "/static/shared/auth.js";
import { $, clear, el } from "/static/shared/dom.js";
import { apply, getLang, setDictionary, t } from "/static/shared/i18n.js";
import { LiveSocket } from "/static/shared/ws.js";
import { barChart, stackChart } from "/static/dashboard/charts.js";
import { onUnauthorized, startSession } from "/static/dashboard/session.js";

setDictionary({
  vi: {
    title: "Bảng điều hành", login_title: "Đăng nhập bảng điều hành", username: "Tên đăng nhập", password: "Mật khẩu",
    login: "Đăng nhập", logout: "Đăng xuất", login_failed: "Sai tên đăng nhập hoặc mật khẩu.",
    not_head: "Chỉ lãnh đạo đơn vị xem được bảng điều hành.", offline: "Mất kết nối – đang thử lại…",
    to_reports: "Báo cáo", needs_decision: "Cần quyết định ngay", branches: "Các đơn vị trực thuộc",
    queues: "Hàng chờ theo dịch vụ", counters: "Quầy", programs: "Chỉ tiêu chương trình",
    chart_hours: "Lấy số và đã phục vụ theo giờ", chart_waits: "Phân bố thời gian chờ (người)",
    chart_satisfaction: "Mức độ hài lòng", live: "Trực tuyến", reconnecting: "Đang kết nối lại…",
    staffing_title: "Bố trí quầy", open_now: "Quầy đang mở", suggested: "Nên mở", staffing_ok: "Đủ quầy để đạt chỉ tiêu chờ.",
    staffing_more: "Mở thêm {n} quầy để giữ thời gian chờ trong chỉ tiêu.",
    staffing_less: "Có thể bớt {n} quầy mà vẫn đạt chỉ tiêu.", staffing_none: "Chưa đủ dữ liệu để tư vấn.",
    group_standard: "Quầy thường", group_do_it_now: "Quầy làm ngay", per_hour: "{n} lượt/giờ", per_service: "TB {m} / lượt",
    no_alerts: "Không có cảnh báo. Mọi hàng chờ đang trong chỉ tiêu.",
    alert_wait_over_target: "Dịch vụ {code}: {waiting} người chờ – lâu nhất {longest}, dự kiến {expected} (chỉ tiêu {target})",
    alert_counter_idle: "Quầy {number} đang mở nhưng chưa gọi số – {waiting} người đang chờ",
    alert_staffing: "{group}: nên mở {suggested} quầy, đang mở {open}", since: "từ {t}",
    alert_webhook_failed: "Webhook {url} không nhận sự kiện #{seq} ({type}) sau {attempts} lần gửi – xem trang Quản trị, mục Gửi sự kiện",
    booked_ahead: "Lịch hẹn sắp tới", service: "Dịch vụ", waiting: "Đang chờ", longest: "Chờ lâu nhất", expected: "Dự kiến chờ", served: "Đã phục vụ",
    avg_wait: "Chờ TB", within: "Đạt chỉ tiêu", target: "Chỉ tiêu",
    state_open: "Đang mở", state_paused: "Tạm dừng", state_closed: "Đóng", clerk: "Cán bộ", current: "Đang phục vụ",
    serving_for: "Thời gian", served_today: "Đã phục vụ", avg_service: "TG phục vụ TB", satisfaction: "Hài lòng",
    nobody: "—", issued: "Đã lấy số", open_counters: "Quầy mở", avg_wait_all: "Chờ trung bình",
    no_wait_day: "Ngày không chờ", no_wait_on: "Hôm nay là ngày không chờ: chỉ tiêu chờ {m} phút.",
    no_wait_off: "Hôm nay không phải ngày không chờ.", do_it_now: "Làm ngay {code}: xong trong {m} phút",
    share_done: "{pct} số lượt xong đúng hạn ({n} lượt)", wait_within: "Chờ trong chỉ tiêu: {pct}",
    arrivals: "Lấy số", served_series: "Đã phục vụ", very_satisfied: "Rất hài lòng", satisfied: "Hài lòng",
    neutral: "Bình thường", unsatisfied: "Không hài lòng", very_unsatisfied: "Rất không hài lòng",
    ratings: "{n} lượt đánh giá – {pct} hài lòng", no_ratings: "Chưa có đánh giá hôm nay.",
    trips_line: "Số lần đi lại TB: {avg} · giải quyết trong 1 lần: {pct}",
    branch_waiting: "Đang chờ", branch_served: "Đã phục vụ", branch_longest: "Chờ lâu nhất", branch_alerts: "Cảnh báo",
  },
  en: {
    title: "Dashboard", login_title: "Dashboard login", username: "Username", password: "Password", login: "Log in",
    logout: "Log out", login_failed: "Wrong username or password.", not_head: "Only office heads can see the dashboard.",
    offline: "Connection lost – retrying…", to_reports: "Reports", needs_decision: "Needs a decision now",
    branches: "Branches", queues: "Queues by service", counters: "Counters", programs: "Programme service levels",
    chart_hours: "Tickets issued and served per hour", chart_waits: "How long people waited (people)",
    chart_satisfaction: "Satisfaction", live: "Live", reconnecting: "Reconnecting…",
    staffing_title: "Staffing", open_now: "Counters open", suggested: "Advised", staffing_ok: "Enough counters to meet the wait target.",
    staffing_more: "Open {n} more counter(s) to keep waits within the target.",
    staffing_less: "{n} counter(s) could be released while meeting the target.", staffing_none: "Not enough data for advice yet.",
    group_standard: "Standard desks", group_do_it_now: "Do-it-now desks", per_hour: "{n} per hour", per_service: "avg {m} each",
    no_alerts: "No alerts. Every queue is within its target.",
    alert_wait_over_target: "Service {code}: {waiting} waiting – longest {longest}, expected {expected} (target {target})",
    alert_counter_idle: "Counter {number} is open but not calling – {waiting} people waiting",
    alert_staffing: "{group}: open {suggested} counters, {open} open now", since: "since {t}",
    alert_webhook_failed: "Webhook {url} did not take event #{seq} ({type}) after {attempts} attempts – see Administration, Outbound events",
    booked_ahead: "Appointments to come", service: "Service", waiting: "Waiting", longest: "Longest wait", expected: "Expected wait", served: "Served",
    avg_wait: "Avg wait", within: "Within target", target: "Target",
    state_open: "Open", state_paused: "Paused", state_closed: "Closed", clerk: "Clerk", current: "Serving",
    serving_for: "For", served_today: "Served", avg_service: "Avg service", satisfaction: "Satisfied",
    nobody: "—", issued: "Issued", open_counters: "Counters open", avg_wait_all: "Average wait",
    no_wait_day: "No-wait day", no_wait_on: "Today is a no-wait day: wait target {m} minutes.",
    no_wait_off: "Today is not a no-wait day.", do_it_now: "Do-it-now {code}: done within {m} minutes",
    share_done: "{pct} finished in time ({n} visits)", wait_within: "Waits within target: {pct}",
    arrivals: "Issued", served_series: "Served", very_satisfied: "Very satisfied", satisfied: "Satisfied",
    neutral: "Neutral", unsatisfied: "Unsatisfied", very_unsatisfied: "Very unsatisfied",
    ratings: "{n} ratings – {pct} satisfied", no_ratings: "No ratings today yet.",
    trips_line: "Average trips: {avg} · done in one trip: {pct}",
    branch_waiting: "Waiting", branch_served: "Served", branch_longest: "Longest wait", branch_alerts: "Alerts",
  },
});
apply();

const S = { office: null, socket: null, timer: null, pending: false, last: 0, poll: null };
const REFRESH_ON = new Set(["ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show", "ticket.cancelled",
  "ticket.transferred", "ticket.started", "counter.updated", "queue.updated", "feedback.received", "alert.raised",
  "alert.cleared", "device.status"]);
const MIN_GAP_MS = 1500;

const mins = (s) => (s === null || s === undefined ? "–" : s < 60 ? (getLang() === "vi" ? "<1 phút" : "<1 min")
  : Math.round(s / 60) + (getLang() === "vi" ? " phút" : " min"));
const pct = (v) => (v === null || v === undefined ? "–" : `${v}%`);
const tone = (v) => (v === null || v === undefined ? "" : v >= 80 ? "good" : v >= 60 ? "fair" : "poor");
const hhmm = (iso) => (iso ? iso.slice(11, 16) : "");

function renderStaffing(live) {
  const box = clear($("#staffing"));  // the card is .staffing-card: .staffing names an alert kind
  const st = live.staffing || {};
  const diff = (st.suggested_open_counters ?? st.open_counters) - st.open_counters;
  box.classList.toggle("short", diff > 0);
  box.append(el("h3", { text: t("staffing_title") }),
    el("div", { class: "staff-figures" },
      el("div", { class: "fig" }, el("span", { class: "num", id: "open-counters", text: st.open_counters ?? 0 }),
        el("span", { class: "lbl", text: t("open_now") })),
      el("div", { class: "arrow", text: "→" }),
      el("div", { class: "fig advised" }, el("span", { class: "num", id: "suggested-counters",
        text: st.suggested_open_counters ?? "–" }), el("span", { class: "lbl", text: t("suggested") }))),
    el("p", { class: "advice", id: "staffing-advice", text: st.suggested_open_counters === null || st.suggested_open_counters === undefined
      ? t("staffing_none") : diff > 0 ? t("staffing_more", { n: diff }) : diff < 0 ? t("staffing_less", { n: -diff }) : t("staffing_ok") }));
  for (const g of st.groups || []) {
    box.append(el("div", { class: "group" + (g.suggested_open_counters > g.open_counters ? " short" : "") },
      el("strong", { text: t("group_" + g.group) }),
      el("span", { text: `${g.open_counters} → ${g.suggested_open_counters}` }),
      el("span", { class: "muted", text: `${t("per_hour", { n: g.arrival_rate_per_h })} · ${t("per_service", { m: mins(g.mean_service_s) })}` })));
  }
}

function alertText(a) {
  if (a.kind === "wait_over_target") {
    return t("alert_wait_over_target", { code: a.code, waiting: a.waiting, longest: mins(a.longest_wait_s),
      expected: mins(a.estimated_wait_s), target: mins(a.target_wait_s) });
  }
  if (a.kind === "counter_idle") return t("alert_counter_idle", { number: a.number, waiting: a.waiting });
  if (a.kind === "staffing") {
    return t("alert_staffing", { group: t("group_" + a.group), suggested: a.suggested_open_counters, open: a.open_counters });
  }
  if (a.kind === "webhook_failed" && a.url) {
    return t("alert_webhook_failed", { url: a.url, seq: a.event_seq, type: a.type, attempts: a.attempts });
  }
  return a.message;
}

function renderAlerts(live) {
  const box = clear($("#alerts"));
  const alerts = live.alerts || [];
  if (!alerts.length) { box.append(el("div", { class: "card calm", text: t("no_alerts") })); return; }
  const order = { wait_over_target: 0, staffing: 1, counter_idle: 2 };
  alerts.sort((a, b) => (order[a.kind] ?? 3) - (order[b.kind] ?? 3) || (b.estimated_wait_s || 0) - (a.estimated_wait_s || 0));
  for (const a of alerts) {
    box.append(el("div", { class: `alert ${a.kind}`, dataset: { kind: a.kind } },
      el("span", { class: "alert-icon", text: a.kind === "counter_idle" ? "⏸" : a.kind === "staffing" ? "⇧" : "!" }),
      el("div", {}, el("div", { class: "alert-text", text: alertText(a) }),
        el("div", { class: "muted small", text: t("since", { t: hhmm(a.since) }) }))));
  }
}

function renderKpis(live) {
  const k = live.totals || {};
  const sat = live.satisfaction || {};
  const box = clear($("#kpis"));
  const kpi = (label, value, cls = "") => el("div", { class: "kpi card " + cls }, el("div", { class: "kpi-num", text: value }),
    el("div", { class: "kpi-lbl", text: label }));
  box.append(kpi(t("issued"), k.issued ?? 0), kpi(t("waiting"), k.waiting ?? 0), kpi(t("served"), k.served ?? 0),
    kpi(t("avg_wait_all"), mins(k.avg_wait_s)), kpi(t("open_counters"), k.open_counters ?? 0),
    kpi(t("satisfaction"), pct(sat.pct), tone(sat.pct)), kpi(t("booked_ahead"), k.booked_ahead ?? 0, "booked"));
}

function renderServices(live) {
  const table = clear($("#services"));
  table.append(el("thead", {}, el("tr", {}, ...["service", "waiting", "booked_ahead", "longest", "expected", "served", "avg_wait", "within"]
    .map((h) => el("th", { text: t(h) })))));
  const body = el("tbody");
  for (const s of live.services || []) {
    const over = s.waiting && (s.longest_wait_s > s.target_wait_s || (s.estimated_wait_s ?? 0) > s.target_wait_s);
    const range = s.estimated_wait_range_s ? ` (${mins(s.estimated_wait_range_s[0])}–${mins(s.estimated_wait_range_s[1])})` : "";
    body.append(el("tr", { class: over ? "over" : "" },
      el("td", {}, el("span", { class: "code", text: s.code }), " ", getLang() === "en" && s.name_en ? s.name_en : s.name),
      el("td", { class: "num big", text: s.waiting }),
      el("td", { class: "num booked", text: s.booked_ahead ?? 0 }),
      el("td", { class: "num", text: s.waiting ? mins(s.longest_wait_s) : "–" }),
      el("td", { class: "num", text: s.waiting ? mins(s.estimated_wait_s) + range : "–" }),
      el("td", { class: "num", text: s.served_today }),
      el("td", { class: "num", text: mins(s.avg_wait_s) }),
      el("td", { class: "num" }, el("span", { class: "pill " + tone(s.within_target_pct), text: pct(s.within_target_pct) }),
        el("span", { class: "muted small", text: ` / ${mins(s.target_wait_s)}` }))));
  }
  table.append(body);
}

function renderCounters(live) {
  const box = clear($("#counters"));
  for (const c of live.counters || []) {
    const cur = c.current_ticket;
    box.append(el("div", { class: `counter ${c.state}` },
      el("div", { class: "counter-head" }, el("span", { class: "counter-no", text: c.number }),
        el("span", { class: "counter-name", text: c.name }), el("span", { class: `state ${c.state}`, text: t("state_" + c.state) })),
      el("div", { class: "counter-now" }, el("span", { class: "ticket", text: cur ? cur.display_number : t("nobody") }),
        el("span", { class: "muted", text: cur ? mins(c.serving_for_s) : "" })),
      el("dl", {},
        el("dt", { text: t("clerk") }), el("dd", { text: c.clerk ? c.clerk.full_name || "" : t("nobody") }),
        el("dt", { text: t("served_today") }), el("dd", { text: c.served_today }),
        el("dt", { text: t("avg_service") }), el("dd", { text: mins(c.avg_service_s) }),
        el("dt", { text: t("satisfaction") }), el("dd", { class: tone(c.satisfaction_pct), text: pct(c.satisfaction_pct) }))));
  }
}

function renderPrograms(live) {
  const box = clear($("#programs"));
  const p = live.programs || {};
  box.append(el("div", { class: "program" + (p.no_wait_day ? " on" : "") }, el("strong", { text: t("no_wait_day") }),
    el("span", { text: p.no_wait_day ? t("no_wait_on", { m: p.targets.wait_min }) : t("no_wait_off") })));
  for (const s of (live.services || []).filter((x) => x.desk === "do_it_now")) {
    box.append(el("div", { class: "program" }, el("strong", { text: t("do_it_now", { code: s.code, m: Math.round(s.target_total_s / 60) }) }),
      el("span", { class: "pill " + tone(s.total_within_target_pct), text: pct(s.total_within_target_pct) }),
      el("span", { class: "muted", text: t("share_done", { pct: pct(s.total_within_target_pct), n: s.served_today }) })));
  }
  const waits = (live.services || []).filter((s) => s.within_target_pct !== null);
  if (waits.length) {
    const all = waits.reduce((a, s) => a + s.within_target_pct * (s.served_today || 1), 0) / waits.reduce((a, s) => a + (s.served_today || 1), 0);
    box.append(el("div", { class: "program" }, el("strong", { text: t("wait_within", { pct: pct(Math.round(all * 10) / 10) }) })));
  }
}

function renderCharts(live) {
  const ch = live.charts || { hours: [], wait_buckets: [] };
  clear($("#chart-hours")).append(barChart({ labels: ch.hours.map((h) => h.hour + "h"), title: t("chart_hours"), width: 480,
    series: [{ name: t("arrivals"), values: ch.hours.map((h) => h.issued) }, { name: t("served_series"), values: ch.hours.map((h) => h.served) }] }));
  const buckets = ch.wait_buckets.filter((b, i) => i < 14 || b.count);
  clear($("#chart-waits")).append(barChart({ title: t("chart_waits"), width: 380, maxLabels: 7,
    labels: buckets.map((b) => (b.upto_s ? "≤" + Math.round(b.upto_s / 60) : ">" + 240) + "'"),
    series: [{ name: t("waiting"), values: buckets.map((b) => b.count) }] }));
  const counts = (live.satisfaction || {}).counts || {};
  const levels = ["very_satisfied", "satisfied", "neutral", "unsatisfied", "very_unsatisfied"].filter((k) => k in counts || k !== "neutral" && k !== "very_unsatisfied");
  const sat = clear($("#chart-sat"));
  sat.append(stackChart({ title: t("chart_satisfaction"), width: 380, parts: levels.map((k) => ({ name: t(k), value: counts[k] || 0,
    tone: { very_satisfied: 0, satisfied: 1, neutral: 2, unsatisfied: 3, very_unsatisfied: 4 }[k] })) }));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  sat.append(el("p", { class: "muted", text: total ? t("ratings", { n: total, pct: pct(live.satisfaction.pct) }) : t("no_ratings") }));
  const trips = live.satisfaction || {};  // the trips question (office setting ask_trips), when answered
  if (trips.avg_trips !== null && trips.avg_trips !== undefined) {
    sat.append(el("p", { class: "muted trips-line", id: "trips-line",
      text: t("trips_line", { avg: trips.avg_trips.toLocaleString(getLang()), pct: pct(trips.one_trip_pct) }) }));
  }
}

function renderBranches(live) {
  const wrap = $("#branches-wrap");
  const list = live.branches || [];
  wrap.classList.toggle("hidden", !list.length);
  const box = clear($("#branches"));
  for (const b of list) {
    box.append(el("div", { class: "card branch" + (b.alerts ? " alerting" : "") },
      el("div", { class: "branch-name", text: b.name }),
      el("div", { class: "branch-figs" },
        el("div", {}, el("span", { class: "num", text: b.waiting }), el("span", { class: "lbl", text: t("branch_waiting") })),
        el("div", {}, el("span", { class: "num", text: b.served }), el("span", { class: "lbl", text: t("branch_served") })),
        el("div", {}, el("span", { class: "num", text: b.open_counters }), el("span", { class: "lbl", text: t("open_counters") }))),
      el("div", { class: "muted small", text: `${t("branch_longest")}: ${b.waiting ? mins(b.longest_wait_s) : "–"} · ${t("avg_wait")}: ${mins(b.avg_wait_s)} · ${t("branch_alerts")}: ${b.alerts}` })));
  }
}

function render(live) {
  $("#office-name").textContent = (live.office && live.office.name) || (S.office && S.office.name) || "";
  $("#clock").textContent = hhmm(live.at);
  renderStaffing(live); renderAlerts(live); renderKpis(live); renderBranches(live);
  renderServices(live); renderCounters(live); renderPrograms(live); renderCharts(live);
  document.body.dataset.loaded = "1";
}

async function refresh() {
  if (!S.office) return;
  S.pending = false; S.last = Date.now();
  try {
    render(await get(`/api/v1/offices/${S.office.id}/live`));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) onUnauthorized();
  }
}

// At most one refresh per MIN_GAP_MS, however many events arrive (a busy office sends several a second).
function soon() {
  if (S.pending) return;
  S.pending = true;
  setTimeout(refresh, Math.max(0, MIN_GAP_MS - (Date.now() - S.last)));
}

function connect(office) {
  if (S.socket) S.socket.stop();
  S.socket = new LiveSocket({ token: getToken(), officeId: office.id,
    onSnapshot: () => soon(),
    onEvent: (m) => { if (REFRESH_ON.has(m.type)) soon(); },
    onStatus: (s) => {
      document.body.classList.toggle("offline", s === "offline");
      $("#status").textContent = s === "online" ? "● " + t("live") : s === "offline" ? t("reconnecting") : "";
      $("#status").className = "status " + s;
      if (s === "unauthorized") onUnauthorized();
    } });
  S.socket.start();
}

startSession(async (office) => {
  S.office = office;
  $("#view-dash").classList.remove("hidden");
  await refresh();
  connect(office);
  clearInterval(S.poll);
  S.poll = setInterval(soon, 20000);  // timers (serving for, waited) and branches' changes
});
