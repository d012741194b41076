import { mintIdPart } from "../crypto/mint-token.js";

// A session id is "<user id>.<8 hex>.<8 hex>", as the sessions management
// document shows: the store finds a session's user (and so its Redis hash
// slot) from the id alone.
const sessionIdPattern = /^(.+)\.([0-9a-f]{8})\.([0-9a-f]{8})$/;

/** newSessionId mints a session id for a user. */
export function newSessionId(userId: string): string {
  return `${userId}.${mintIdPart()}.${mintIdPart()}`;
}

/** userIdOfSessionId returns the user part of a session id, or undefined when malformed. */
export function userIdOfSessionId(sessionId: string): string | undefined {
  return sessionIdPattern.exec(sessionId)?.[1];
}
