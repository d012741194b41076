import type http2 from "node:http2";

export interface Http2Limits {
  /** Streams one connection may have open at once. */
  readonly maxConcurrentStreams: number;
  /** Largest request header list (uncompressed, as HTTP/2 counts it). */
  readonly maxHeaderListBytes: number;
}

/**
 * http2ServerOptions bounds what one HTTP/2 connection may hold. Node's
 * defaults advertise 2^32-1 concurrent streams, so one connection could open
 * thousands of stalled requests; with a limit, streams over it are refused
 * (REFUSED_STREAM) and a peer that keeps opening them is disconnected
 * (Node's maxSessionRejectedStreams, 100 by default). A header list over the limit resets its stream.
 */
export function http2ServerOptions(limits: Http2Limits): http2.ServerOptions {
  return {
    settings: {
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderListBytes,
    },
  };
}
