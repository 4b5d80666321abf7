// A 2D scanner is a keyboard: it "types" what it reads (a chip ID card's QR, a receipt's barcode) and
// presses Enter. A hidden field with inputmode="none" (no on-screen keyboard pops up) keeps the focus so
// every character arrives, Vietnamese letters included; Enter hands the text over. Text that dribbles in
// slowly and is never finished (a stray key) is forgotten after a pause.
const PAUSE_MS = 600;
const byScreen = new Map();  // screen name → its own handler (e.g. an appointment check-in screen)

// A screen that wants scans for itself (document.body.dataset.screen === name) registers here.
export function handleScansOn(screen, handler) { byScreen.set(screen, handler); }

export function listenForScans(onScan) {
  const sink = document.createElement("input");
  Object.assign(sink, { id: "scan-sink", type: "text", autocomplete: "off", spellcheck: false, tabIndex: -1 });
  sink.setAttribute("inputmode", "none");
  sink.setAttribute("aria-hidden", "true");
  sink.className = "scan-sink";
  document.body.append(sink);
  let last = 0;
  const keepFocus = () => {
    const a = document.activeElement;
    if (a !== sink && !(a && a.matches && a.matches("input, textarea, select, [contenteditable]"))) {
      sink.focus({ preventScroll: true });
    }
  };
  sink.addEventListener("input", () => {
    const now = Date.now();
    if (now - last > PAUSE_MS && sink.value.length > 1) sink.value = sink.value.slice(-1);
    last = now;
  });
  sink.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const text = sink.value;
    sink.value = "";
    if (!text.trim()) return;
    const own = byScreen.get(document.body.dataset.screen);
    (own || onScan)(text.trim());
  });
  // a tap on a button must not take the focus away (a scan right after it would lose its first letters)
  document.addEventListener("mousedown", (e) => {
    if (!(e.target.closest && e.target.closest("input, textarea, select, [contenteditable]"))) e.preventDefault();
  });
  sink.addEventListener("blur", () => setTimeout(keepFocus, 0));
  document.addEventListener("pointerup", () => setTimeout(keepFocus, 0));
  keepFocus();
  return sink;
}
