// Vietnamese first, English second: t(key) looks up the page's dictionary in the current language.
let lang = localStorage.getItem("qms.lang") || (new URLSearchParams(location.search).get("lang")) || "vi";
let dict = { vi: {}, en: {} };

export function setDictionary(d) { dict = d; }
export function getLang() { return lang; }
export function setLang(l) { lang = l; localStorage.setItem("qms.lang", l); document.documentElement.lang = l; apply(); }
export function t(key, vars = {}) {
  const s = (dict[lang] && dict[lang][key]) ?? (dict.vi && dict.vi[key]) ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
}
// Elements with data-i18n="key" get their text from the dictionary (textContent, never HTML).
export function apply(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
}

export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  return Math.max(1, Math.round(seconds / 60)) + (lang === "vi" ? " phút" : " min");
}
