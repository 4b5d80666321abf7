// The office's start page: what each page is for, in Vietnamese (default) and English.
import { setDictionary, setLang, getLang, apply } from "/static/shared/i18n.js";

const STRINGS = {
  vi: {
    org: "Bộ phận Một cửa · Trung tâm Phục vụ hành chính công",
    title: "Hệ thống xếp hàng – Trang bắt đầu",
    intro: "Chọn trang cần mở trên máy này. Kiosk, màn hình sảnh và máy tính bảng đánh giá được ghép nối một lần bằng mã 6 số do trưởng bộ phận duyệt trong trang Quản trị.",
    for_citizens: "Cho công dân",
    for_staff: "Cho cán bộ",
    kiosk: "Kiosk lấy số",
    kiosk_what: "Màn hình cảm ứng ở sảnh: công dân chọn lĩnh vực và nhận phiếu số thứ tự (in ra hoặc hiện mã QR).",
    display: "Màn hình sảnh",
    display_what: "Màn hình lớn: hiện và đọc số được gọi, các quầy đang phục vụ, số người đang chờ.",
    tablet: "Máy tính bảng đánh giá",
    tablet_what: "Đặt tại từng quầy: công dân đánh giá mức độ hài lòng sau khi được phục vụ.",
    track: "Theo dõi lượt chờ",
    track_what: "Trên điện thoại của công dân: mở bằng mã QR trên phiếu, báo khi sắp đến lượt.",
    counter: "Quầy giao dịch",
    counter_what: "Cho cán bộ tại quầy: gọi số tiếp theo, gọi lại, chuyển quầy, kết thúc.",
    dashboard: "Bảng điều hành",
    dashboard_what: "Cho trưởng bộ phận: cảnh báo, đề xuất mở thêm quầy, thời gian chờ trực tiếp.",
    reports: "Báo cáo",
    reports_what: "Số liệu theo ngày, giờ, lĩnh vực, quầy, cán bộ; tải về Excel (CSV/XLSX).",
    admin: "Quản trị",
    admin_what: "Giờ làm việc, lĩnh vực, quầy, cán bộ, thiết bị, máy in, lời mời đọc số.",
    devices_note: "Mẹo: mở kiosk và màn hình sảnh ở chế độ toàn màn hình (chromium --kiosk).",
  },
  en: {
    org: "One-stop desk · Public Administration Service Centre",
    title: "Queueing system – start page",
    intro: "Choose the page to open on this machine. Kiosks, lobby displays and rating tablets are paired once with a 6-digit code that an office head approves in the Admin page.",
    for_citizens: "For citizens",
    for_staff: "For staff",
    kiosk: "Ticket kiosk",
    kiosk_what: "Touch screen in the lobby: citizens choose a service and get a queue ticket (printed or as a QR code).",
    display: "Lobby display",
    display_what: "Big screen: shows and speaks each call, the counters serving and the people waiting.",
    tablet: "Rating tablet",
    tablet_what: "At each counter: citizens rate the service they just received.",
    track: "Queue tracking",
    track_what: "On the citizen's phone: opened from the QR code on the ticket, warns when the turn is near.",
    counter: "Counter",
    counter_what: "For clerks: call the next number, recall, transfer, finish.",
    dashboard: "Dashboard",
    dashboard_what: "For office heads: alerts, staffing advice, live waiting times.",
    reports: "Reports",
    reports_what: "Figures by day, hour, service, counter, clerk; download for Excel (CSV/XLSX).",
    admin: "Administration",
    admin_what: "Opening hours, services, counters, staff, devices, printers, the announcement wording.",
    devices_note: "Tip: run the kiosk and the lobby display full-screen (chromium --kiosk).",
  },
};

function render() {
  apply();
  document.documentElement.lang = getLang();
  for (const b of document.querySelectorAll(".lang")) b.setAttribute("aria-pressed", String(b.dataset.lang === getLang()));
}

setDictionary(STRINGS);
const forced = new URLSearchParams(location.search).get("lang");
if (forced === "vi" || forced === "en") setLang(forced);
render();
for (const b of document.querySelectorAll(".lang")) b.addEventListener("click", () => { setLang(b.dataset.lang); render(); });
document.body.classList.add("ready");
