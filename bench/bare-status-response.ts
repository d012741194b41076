import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { GetAuthStatusResponseSchema, type GetAuthStatusResponse } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import type { BareSession } from "./bare-lookup.js";
import { idleMs } from "./bare-schema.js";

/** The gRPC baselines' GetAuthStatus reply for a lookup's result, as the service shapes it. */
export function bareStatusResponse(s: BareSession | undefined): GetAuthStatusResponse {
  if (!s) return create(GetAuthStatusResponseSchema, { success: true, valid: false, message: "Session expired or invalid" });
  return create(GetAuthStatusResponseSchema, {
    success: true,
    valid: true,
    user: s.profile as JsonObject,
    session: {
      createdAt: timestampFromMs(s.createdAt),
      lastAccessed: timestampFromMs(s.lastAccessed),
      timeoutMinutes: idleMs / 60_000,
      remainingSeconds: Math.floor((s.expiresAt - s.lastAccessed) / 1000),
      expiresAt: timestampFromMs(s.expiresAt),
    },
  });
}
