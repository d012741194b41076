import type { HandlerContext } from "@connectrpc/connect";

/**
 * noStoreHeaders keep a reply out of every cache (browser, proxy, CDN): it
 * carries a whole token or sets the session cookie. Pragma is for HTTP/1.0
 * caches. Over gRPC they travel as harmless metadata.
 */
export const noStoreHeaders = Object.freeze({ "cache-control": "no-store", pragma: "no-cache" });

/** noStore marks this call's reply as not to be stored by any cache. */
export function noStore(ctx: HandlerContext): void {
  for (const [name, value] of Object.entries(noStoreHeaders)) ctx.responseHeader.set(name, value);
}
