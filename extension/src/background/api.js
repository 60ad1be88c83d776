// Every server call goes through the worker, with the token it alone holds.

import { serverUrl } from "./config.js";
import { getSecret } from "./secrets.js";

export class Unreachable extends Error {}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
  }
}

/** Call the API; throws Unreachable (network, timeout, 5xx) or ApiError (4xx). */
export async function api(path, { method = "GET", body, timeout = 10000, token } = {}) {
  const base = await serverUrl();
  if (!base) throw new ApiError(0, "not_configured", "No Leadcamp server is set.");
  const bearer = token === undefined ? await getSecret("token") : token;
  const headers = { Accept: "application/json" };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
      credentials: "omit",
    });
  } catch (error) {
    throw new Unreachable(`The Leadcamp server cannot be reached (${error.name}).`);
  }
  const data = await response.json().catch(() => ({}));
  if (response.status >= 500) throw new Unreachable(`The Leadcamp server failed (${response.status}).`);
  if (!response.ok) throw new ApiError(response.status, data.error || "error", data.message);
  return data;
}
