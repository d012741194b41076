import { randomUUID } from "node:crypto";
import { createContextKey } from "@connectrpc/connect";

export const requestIdKey = createContextKey<string>("", { description: "request id" });

/** acceptRequestId keeps a caller's x-request-id when it is sane, or makes one. */
export function acceptRequestId(incoming: string | null | undefined): string {
  return incoming && /^[A-Za-z0-9._:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}
