/**
 * A caller token's pointer holds "<session key> <deadline ms>": the key of
 * the session holding the token, and the deadline of the write that
 * claimed it. Until that deadline has passed, a holder whose session is not
 * stored (or does not show the token) may be a create or token change still
 * in flight; after it, the pointer is stale and may be taken over. Pointers
 * of older releases hold the key alone (deadline 0: long past).
 */
export interface TokenPointerValue {
  readonly key: string;
  readonly deadline: number;
}

/** parseTokenPointer reads a pointer's value. */
export function parseTokenPointer(value: string): TokenPointerValue {
  const space = value.indexOf(" ");
  if (space < 0) return { key: value, deadline: 0 };
  return { key: value.slice(0, space), deadline: Number(value.slice(space + 1)) || 0 };
}
