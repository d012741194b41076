import { Code, ConnectError } from "@connectrpc/connect";
import { userIdOfSessionId } from "./session-id.js";

/**
 * sessionNotFound is the one NOT_FOUND for a session, whether it never
 * existed, expired, or belongs to someone else. The id is echoed only when it
 * has the shape of a session id: a caller who pastes a token where an id goes
 * must not find it in our logs.
 */
export function sessionNotFound(sessionId: string): ConnectError {
  const named = userIdOfSessionId(sessionId) !== undefined && sessionId.length <= 160;
  return new ConnectError(named ? `session "${sessionId}" not found` : "session not found", Code.NotFound);
}
