import type { ServiceImpl } from "@connectrpc/connect";
import { JwksService } from "../../gen/sessionstorage/v1/jwks_service_pb.js";
import type { JwtIssuer } from "../crypto/jwt-issuer.js";

/** createJwksService publishes the session JWTs' verification keys; no credentials needed. */
export function createJwksService(issuer: JwtIssuer): ServiceImpl<typeof JwksService> {
  return {
    getJwks: () => ({ keys: issuer.publicKeys().map((k) => ({ ...k })) }),
  };
}
