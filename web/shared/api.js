// Small fetch wrapper for the public API: bearer token, JSON in/out, the contract's error shape.
import { getToken } from "./auth.js";

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || { code: "http_" + status, message: "HTTP " + status, details: {} };
    super(err.message);
    this.status = status;
    this.code = err.code;
    this.details = err.details || {};
  }
}

export async function api(method, path, body, { token = getToken(), lang } = {}) {
  const headers = { "Accept": "application/json" };
  if (token) headers["Authorization"] = "Bearer " + token;
  if (lang) headers["Accept-Language"] = lang;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { error: { code: "network", message: "Không kết nối được máy chủ / Server unreachable" } });
  }
  const type = res.headers.get("content-type") || "";
  const data = type.includes("application/json") ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (p, o) => api("GET", p, undefined, o);
export const post = (p, b = {}, o) => api("POST", p, b, o);
export const patch = (p, b = {}, o) => api("PATCH", p, b, o);
export const del = (p, o) => api("DELETE", p, undefined, o);
