import { mintIdPart } from "../crypto/mint-id-part.js";

// A session id is "<user id>.<8 hex>.<8 hex>", as the sessions management
// document shows: the store finds a session's user (and so its Redis hash
// slot) from the id alone, and keys the session by the random suffix.
const sessionIdPattern = /^(.+)\.([0-9a-f]{8}\.[0-9a-f]{8})$/;

/** newSessionId mints a session id for a user. */
export function newSessionId(userId: string): string {
  return `${userId}.${mintIdPart()}.${mintIdPart()}`;
}

/** userIdOfSessionId returns the user part of a session id, or undefined when malformed. */
export function userIdOfSessionId(sessionId: string): string | undefined {
  return sessionIdPattern.exec(sessionId)?.[1];
}

/** splitSessionId returns the user and the random suffix ("<8 hex>.<8 hex>"), or undefined when malformed. */
export function splitSessionId(sessionId: string): { userId: string; suffix: string } | undefined {
  const match = sessionIdPattern.exec(sessionId);
  return match ? { userId: match[1]!, suffix: match[2]! } : undefined;
}

/** joinSessionId is the inverse of splitSessionId. */
export function joinSessionId(userId: string, suffix: string): string {
  return `${userId}.${suffix}`;
}
