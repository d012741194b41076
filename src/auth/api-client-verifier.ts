import type { ApiClient } from "../config/parse-api-clients.js";
import { constantTimeEqual } from "../crypto/constant-time-equal.js";

/** ApiClientVerifier checks ClientID + ClientSecret pairs. */
export interface ApiClientVerifier {
  /** Returns the client id when the pair is right, undefined otherwise. */
  verify(clientId: string, clientSecret: string): string | undefined;
}

export function createApiClientVerifier(clients: readonly ApiClient[]): ApiClientVerifier {
  const byId = new Map(clients.map((c) => [c.id, c.secret]));
  return {
    verify(clientId, clientSecret) {
      // An unknown id still costs one comparison, so timing does not tell
      // which client ids exist.
      const expected = byId.get(clientId);
      const ok = constantTimeEqual(clientSecret, expected ?? "\u0000unknown-client");
      return ok && expected !== undefined ? clientId : undefined;
    },
  };
}
