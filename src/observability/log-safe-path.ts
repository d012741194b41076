import { limits } from "../core/limits.js";
import { splitSessionId } from "../core/session-id.js";

/** What a segment that may not be logged is written as. */
export const redactedSegment = "{redacted}";

// The literal segments of the documented REST paths: public words, never secrets.
const literalSegments = new Set([
  "api", "v1", "session-storage", "current", "validity", "sessions", "auth", "status", "client",
  "touch", "tokens", "end", "remove", "session", "createSession", "validateSession", "deleteSession",
  ".well-known", "jwks.json",
]);

// Other words (a JWT template name, an unknown path): lower-case letters and hyphens only.
const safeWord = /^[a-z]+(?:-[a-z]+)*$/;
/**
 * A caller may paste a token where an id goes, and a token containing "/"
 * spans segments, some of which may look like words. So words are kept only
 * in a path with nothing else to hide, and only up to this many characters
 * in all: half of the shortest token, so even a token made of nothing but
 * such words cannot be logged.
 */
const maxWordCharacters = limits.tokenMinLength / 2;

/**
 * logSafePath is a URL path fit for a log line, whatever the caller put in it:
 * no query string, and each segment kept only when it is a documented literal,
 * shaped like a session id ("<user id>.<8 hex>.<8 hex>"), or a short
 * lower-case word in an otherwise clean path; everything else (tokens,
 * pieces of tokens, anything encoded) is replaced by {redacted}.
 */
export function logSafePath(url: string): string {
  const segments = url.split("?", 1)[0]!.split("/");
  const kinds = segments.map(kindOf);
  const wordCharacters = segments.reduce((n, segment, i) => (kinds[i] === "word" ? n + segment.length : n), 0);
  const wordsSafe = wordCharacters <= maxWordCharacters && !kinds.includes("other");
  return segments.map((segment, i) => (kinds[i] === "literal" || (kinds[i] === "word" && wordsSafe) ? segment : redactedSegment)).join("/");
}

function kindOf(segment: string): "literal" | "word" | "other" {
  if (segment === "" || literalSegments.has(segment) || isSessionId(segment)) return "literal";
  return safeWord.test(segment) ? "word" : "other";
}

// Session ids are logged whole: they name a session, they do not open it.
function isSessionId(segment: string): boolean {
  if (segment.length > 160) return false;
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return false;
  }
  const parts = splitSessionId(decoded);
  return parts !== undefined && limits.userIdPattern.test(parts.userId);
}
