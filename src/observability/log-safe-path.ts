import { limits } from "../core/limits.js";
import { userIdOfSessionId } from "../core/session-id.js";

/**
 * logSafePath is a URL path fit for a log line: no query string, and each
 * segment long enough to be a token, but not shaped like a session id,
 * replaced by "{redacted}" (a caller may paste a token where an id goes).
 */
export function logSafePath(url: string): string {
  const path = url.split("?", 1)[0]!;
  return path
    .split("/")
    .map((segment) => (segment.length < limits.tokenMinLength || isSessionId(segment) ? segment : "{redacted}"))
    .join("/");
}

function isSessionId(segment: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return false;
  }
  return userIdOfSessionId(decoded) !== undefined && decoded.length <= 160;
}
