import { timingSafeEqual } from "node:crypto";
import type { KeyedHash } from "./keyed-hash.js";

/** PageCursor is the position after the last item of a page. */
export interface PageCursor {
  /** Creation time (ms) of the last item returned. */
  readonly createdAt: number;
  /** Id of the last item returned; breaks ties between equal creation times. */
  readonly id: string;
  /** The list the cursor belongs to ("" for all of the tenant's sessions). */
  readonly scope: string;
}

/** PageTokenCodec makes opaque, tamper-evident page tokens. */
export interface PageTokenCodec {
  encode(cursor: PageCursor): string;
  /** Returns undefined for a forged, truncated or foreign token. */
  decode(token: string): PageCursor | undefined;
}

/**
 * createPageTokenCodec signs the cursor with a keyed hash. A cursor is a
 * position (creation time, id), not an offset, so a walk neither skips nor
 * repeats items while sessions are added or removed.
 */
export function createPageTokenCodec(hash: KeyedHash): PageTokenCodec {
  return {
    encode(cursor) {
      const body = Buffer.from(JSON.stringify([cursor.createdAt, cursor.id, cursor.scope])).toString("base64url");
      return `${body}.${hash.digest(body)}`;
    },
    decode(token) {
      const [body, sig] = token.split(".");
      if (!body || !sig || token.split(".").length !== 2) return undefined;
      const expected = Buffer.from(hash.digest(body));
      const given = Buffer.from(sig);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
      try {
        const [createdAt, id, scope] = JSON.parse(Buffer.from(body, "base64url").toString()) as unknown[];
        if (typeof createdAt !== "number" || typeof id !== "string" || typeof scope !== "string") return undefined;
        return { createdAt, id, scope };
      } catch {
        return undefined;
      }
    },
  };
}
