// Reports: date range and grouping, a table, an SVG chart, and CSV / XLSX downloads of the same rows.
import { ApiError, get } from "/static/shared/api.js";
import { getToken } from "/static/shared/auth.js";
import { $, $$, clear, el } from "/static/shared/dom.js";
import { apply, getLang, setDictionary, t } from "/static/shared/i18n.js";
import { barChart } from "/static/dashboard/charts.js";
import { onUnauthorized, startSession } from "/static/dashboard/session.js";

setDictionary({
  vi: {
    title: "Báo cáo", to_dashboard: "Bảng điều hành", login_title: "Đăng nhập báo cáo", username: "Tên đăng nhập",
    password: "Mật khẩu", login: "Đăng nhập", logout: "Đăng xuất", login_failed: "Sai tên đăng nhập hoặc mật khẩu.",
    not_head: "Chỉ lãnh đạo đơn vị xem được báo cáo.", from: "Từ ngày", to: "Đến ngày", group_by: "Nhóm theo",
    g_day: "Ngày", g_hour: "Giờ", g_service: "Dịch vụ", g_counter: "Quầy", g_clerk: "Cán bộ", g_channel: "Kênh lấy số", appointments: "Lịch hẹn đến", appointments_missed: "Lịch hẹn vắng", today: "Hôm nay",
    week: "7 ngày", month: "30 ngày", show: "Xem báo cáo", csv: "Tải CSV", xlsx: "Tải Excel (XLSX)", chart: "Biểu đồ",
    m_volume: "Lấy số / đã phục vụ", m_wait: "Thời gian chờ (TB, p90)", m_levels: "Đạt chỉ tiêu / hài lòng (%)",
    key: "Mã", label: "Tên", issued: "Lấy số", served: "Phục vụ", no_show: "Vắng", cancelled: "Hủy",
    avg_wait_s: "Chờ TB", p90_wait_s: "Chờ p90", avg_service_s: "Phục vụ TB", p90_service_s: "Phục vụ p90",
    within_target_pct: "Đạt chỉ tiêu chờ", ratings: "Đánh giá", satisfaction_pct: "Hài lòng",
    do_it_now_within_target_pct: "Làm ngay đúng hạn", no_wait_within_target_pct: "Ngày không chờ đạt",
    total: "Tổng", empty: "Không có số liệu trong khoảng này.", avg_wait_min: "Chờ TB (phút)", p90_min: "Chờ p90 (phút)",
    within: "Đạt chỉ tiêu (%)", satisfied: "Hài lòng (%)",
    avg_trips: "Số lần đi lại TB", one_trip_pct: "Xong trong 1 lần", g_procedure: "Thủ tục (hồ sơ)",
    g_ticket: "Từng lượt (mã hồ sơ)", day: "Ngày", service: "Dịch vụ", counter: "Quầy", clerk: "Cán bộ",
    status: "Trạng thái", wait_s: "Chờ", service_s: "Phục vụ", rating: "Đánh giá", trips: "Số lần",
    dossiers: "Mã hồ sơ", procedures: "Thủ tục",
    machine_columns: "Tệp cho máy (tên trường JSON, giây)",
    k_day: "Ngày", k_hour: "Giờ", k_service: "Mã", l_service: "Lĩnh vực", k_counter: "Quầy", l_counter: "Tên quầy",
    k_clerk: "Tên đăng nhập", l_clerk: "Cán bộ", k_procedure: "Thủ tục", l_ticket: "Số", k_channel: "Kênh lấy số", min_sec: "phút:giây", sec: "{n} giây", min: "{m} phút {s} giây",
  },
  en: {
    title: "Reports", to_dashboard: "Dashboard", login_title: "Reports login", username: "Username", password: "Password",
    login: "Log in", logout: "Log out", login_failed: "Wrong username or password.", not_head: "Only office heads can see reports.",
    from: "From", to: "To", group_by: "Group by", g_day: "Day", g_hour: "Hour", g_service: "Service", g_counter: "Counter",
    g_clerk: "Clerk", g_channel: "Channel", appointments: "Appointments", appointments_missed: "Missed appointments", today: "Today", week: "7 days", month: "30 days", show: "Show report", csv: "Download CSV",
    xlsx: "Download Excel (XLSX)", chart: "Chart", m_volume: "Issued / served", m_wait: "Waiting time (avg, p90)",
    m_levels: "Within target / satisfied (%)", key: "Key", label: "Name", issued: "Issued", served: "Served",
    no_show: "Absent", cancelled: "Cancelled", avg_wait_s: "Avg wait", p90_wait_s: "p90 wait", avg_service_s: "Avg service",
    p90_service_s: "p90 service", within_target_pct: "Wait within target", ratings: "Ratings", satisfaction_pct: "Satisfied",
    do_it_now_within_target_pct: "Do-it-now in time", no_wait_within_target_pct: "No-wait day met",
    total: "Total", empty: "No data in this range.", avg_wait_min: "Avg wait (min)", p90_min: "p90 wait (min)",
    within: "Within target (%)", satisfied: "Satisfied (%)",
    avg_trips: "Avg trips", one_trip_pct: "Done in one trip", g_procedure: "Procedure (dossiers)",
    g_ticket: "Each visit (dossier codes)", day: "Day", service: "Service", counter: "Counter", clerk: "Clerk",
    status: "Status", wait_s: "Wait", service_s: "Service", rating: "Rating", trips: "Trips",
    dossiers: "Dossier codes", procedures: "Procedures",
    machine_columns: "File for machines (JSON names, seconds)",
    k_day: "Date", k_hour: "Hour", k_service: "Code", l_service: "Service", k_counter: "Counter", l_counter: "Counter name",
    k_clerk: "Username", l_clerk: "Clerk", k_procedure: "Procedure", l_ticket: "Number", k_channel: "Channel", min_sec: "min:sec", sec: "{n} s", min: "{m} min {s} s",
  },
});
apply();

const COLUMNS = ["key", "label", "issued", "served", "no_show", "cancelled", "avg_wait_s", "p90_wait_s", "avg_service_s",
  "p90_service_s", "within_target_pct", "ratings", "satisfaction_pct", "avg_trips", "one_trip_pct",
  "do_it_now_within_target_pct", "no_wait_within_target_pct", "appointments", "appointments_missed"];
// group_by=ticket: one row per visit, with its dossier codes
const VISIT_COLUMNS = ["label", "day", "service", "counter", "clerk", "status", "wait_s", "service_s", "rating", "trips",
  "dossiers", "procedures"];
const columns = () => ($("#group_by").value === "ticket" ? VISIT_COLUMNS : COLUMNS);
const S = { office: null, rows: [] };

// a date as the office's calendar has it (reports are by office day), whatever this browser's time zone
const isoDay = (d) => {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-US", { timeZone: S.office?.timezone || undefined, year: "numeric",
    month: "2-digit", day: "2-digit" }).formatToParts(d)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day}`;
};
// durations: "4:12" in the table (its header says min:sec), "36 giây" / "4 phút 12 giây" in the summary
const mins = (s) => (s === null || s === undefined ? "–"
  : `${Math.floor(Math.round(s) / 60)}:${String(Math.round(s) % 60).padStart(2, "0")}`);
const spoken = (s) => { if (s === null || s === undefined) return "–"; const r = Math.round(s);
  return r < 60 ? t("sec", { n: r }) : t("min", { m: Math.floor(r / 60), s: r % 60 }); };
const pct = (v) => (v === null || v === undefined ? "–" : `${v}%`);

function setRange(daysBack) {
  const end = new Date();
  const start = new Date(end.getTime() - daysBack * 86400000);
  $("#from").value = isoDay(start); $("#to").value = isoDay(end);
}

function query(format) {
  const q = new URLSearchParams({ from: $("#from").value, to: $("#to").value, group_by: $("#group_by").value, lang: getLang() });
  if (format) { q.set("format", format); q.set("columns", $("#machine-columns").checked ? "json" : "people"); }
  return `/api/v1/offices/${S.office.id}/reports?${q}`;
}

function cell(col, v) {
  if (col.endsWith("_s")) return mins(v);
  if (col.endsWith("_pct")) return pct(v);
  if (Array.isArray(v)) return v.join("; ");
  if (col === "avg_trips" && v !== null && v !== undefined) return v.toLocaleString(getLang());
  return v === null || v === undefined ? "–" : String(v);
}

// Grouped by day or hour the label already says the date or hour: one column, named for the grouping.
function columnsFor(groupBy) {
  return ["day", "hour", "channel"].includes(groupBy) ? columns().filter((c) => c !== "key") : columns();
}
function heading(c, groupBy) {
  if (c === "key") return t("k_" + groupBy);
  if (c === "label") return ["day", "hour", "procedure", "channel"].includes(groupBy) ? t("k_" + groupBy) : t("l_" + groupBy);
  return c.endsWith("_s") ? `${t(c)} (${t("min_sec")})` : t(c);
}
function renderTable(rows) {
  const table = clear($("#table"));
  const groupBy = $("#group_by").value;
  const cols = columnsFor(groupBy);
  table.append(el("thead", {}, el("tr", {}, ...cols.map((c) => el("th", { "data-col": c, text: heading(c, groupBy) })))));
  const body = el("tbody");
  for (const r of rows) body.append(el("tr", {}, ...cols.map((c) => el("td", { class: c === "key" || c === "label" ? "" : "num", "data-col": c, text: cell(c, r[c]) }))));
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: cols.length, class: "muted", text: t("empty") })));
  table.append(body);
}

function renderSummary(rows) {
  const sum = (k) => rows.reduce((a, r) => a + (r[k] || 0), 0);
  const weighted = (k, w) => { const n = rows.reduce((a, r) => a + (r[k] !== null ? r[w] : 0), 0);
    return n ? Math.round(rows.reduce((a, r) => a + (r[k] !== null ? r[k] * r[w] : 0), 0) / n * 10) / 10 : null; };
  const box = clear($("#summary"));
  const kpi = (label, value) => el("div", { class: "kpi card" }, el("div", { class: "kpi-num", text: value }), el("div", { class: "kpi-lbl", text: label }));
  box.append(kpi(t("issued"), sum("issued").toLocaleString(getLang())), kpi(t("served"), sum("served").toLocaleString(getLang())),
    kpi(t("no_show"), sum("no_show").toLocaleString(getLang())), kpi(t("avg_wait_s"), spoken(weighted("avg_wait_s", "served"))),
    kpi(t("within_target_pct"), pct(weighted("within_target_pct", "served"))), kpi(t("satisfaction_pct"), pct(weighted("satisfaction_pct", "ratings"))));
}

function renderChart(rows) {
  const metric = $("#metric").value;
  const labels = rows.map((r) => ($("#group_by").value === "day" ? r.key.slice(5) : r.key));
  let series;
  if (metric === "volume") series = [{ name: t("issued"), values: rows.map((r) => r.issued) }, { name: t("served"), values: rows.map((r) => r.served) }];
  else if (metric === "wait") series = [{ name: t("avg_wait_min"), values: rows.map((r) => (r.avg_wait_s || 0) / 60) },
    { name: t("p90_min"), values: rows.map((r) => (r.p90_wait_s || 0) / 60) }];
  else series = [{ name: t("within"), values: rows.map((r) => r.within_target_pct || 0) }, { name: t("satisfied"), values: rows.map((r) => r.satisfaction_pct || 0) }];
  clear($("#chart")).append(barChart({ labels, series, width: 960, height: 280, title: $("#metric").selectedOptions[0].textContent }));
}

async function run() {
  $("#report-error").textContent = "";
  try {
    const body = await get(query());
    S.rows = body.items;
    if ($("#group_by").value === "ticket") { clear($("#summary")); clear($("#chart")); } // visits: the table only
    else { renderSummary(S.rows); renderChart(S.rows); }
    renderTable(S.rows);
    document.body.dataset.loaded = "1";
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return onUnauthorized();
    $("#report-error").textContent = e.message;
  }
}

// Downloads need the bearer token, so they are fetched and handed to the browser as a blob.
async function download(format) {
  const res = await fetch(query(format), { headers: { Authorization: "Bearer " + getToken() } });
  if (!res.ok) { $("#report-error").textContent = `HTTP ${res.status}`; return; }
  const blob = await res.blob();
  const name = (res.headers.get("content-disposition") || "").match(/filename="([^"]+)"/);
  const a = el("a", { href: URL.createObjectURL(blob), download: name ? name[1] : `report.${format}` });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

$("#filters").addEventListener("submit", (ev) => { ev.preventDefault(); run(); });
$("#group_by").addEventListener("change", run);
$("#metric").addEventListener("change", () => { if ($("#group_by").value !== "ticket") renderChart(S.rows); });
$$("[data-range]").forEach((b) => b.addEventListener("click", () => { setRange(Number(b.dataset.range)); run(); }));
$("#csv").addEventListener("click", () => download("csv"));
$("#xlsx").addEventListener("click", () => download("xlsx"));

startSession((office) => {
  S.office = office;
  $("#office-name").textContent = office.name;
  $("#view-reports").classList.remove("hidden");
  const p = new URLSearchParams(location.search);
  if (p.get("from")) { $("#from").value = p.get("from"); $("#to").value = p.get("to") || p.get("from"); } else setRange(6);
  if (p.get("group_by")) $("#group_by").value = p.get("group_by");
  run();
});
