import { Code, ConnectError } from "@connectrpc/connect";
import { limits } from "../core/limits.js";
import { sessionEventTypes } from "./session-event.js";
import type { SessionEvent } from "./session-event.js";

/** EventFilter picks the events a consumer asked for. */
export type EventFilter = (event: SessionEvent) => boolean;

/** parseEventFilter checks a consumer's filters (user id, event types); INVALID_ARGUMENT names the bad one. */
export function parseEventFilter(userId: string, types: readonly string[]): EventFilter {
  if (userId !== "" && !limits.userIdPattern.test(userId)) {
    throw new ConnectError("user_id must be 1-128 characters: letters, digits and _ @ : + = . - (not starting with a dot)", Code.InvalidArgument);
  }
  const known = new Set<string>(sessionEventTypes);
  for (const type of types) {
    if (!known.has(type)) throw new ConnectError(`types: unknown event type "${type}"; known: ${sessionEventTypes.join(", ")}`, Code.InvalidArgument);
  }
  const wanted = new Set(types);
  return (e) => (userId === "" || e.userId === userId) && (wanted.size === 0 || wanted.has(e.type));
}
