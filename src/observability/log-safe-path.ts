import { limits } from "../core/limits.js";
import { userIdOfSessionId } from "../core/session-id.js";

/**
 * logSafePath is a URL path fit for a log line: no query string, and when any
 * segment is long enough to be a token but not shaped like a session id, no
 * path at all (a caller may paste a token where an id goes, and a token with
 * "/" in it spans segments).
 */
export function logSafePath(url: string): string {
  const path = url.split("?", 1)[0]!;
  const safe = path.split("/").every((segment) => segment.length < limits.tokenMinLength || isSessionId(segment));
  return safe ? path : "{redacted}";
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
