import { importJWK, SignJWT, type JWK } from "jose";
import type { JsonWebKeyWithKid } from "../config/config.js";

/** PublicJwk is one published verification key. */
export interface PublicJwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: string;
  readonly use: string;
}

/**
 * Claims the issuer sets itself. Extra claims never override them: a JWT
 * says whose session it is (sub, sid), for which tenant (aud), from whom
 * (iss) and for how long (iat, exp), whatever a template or profile holds.
 */
export const reservedClaims: readonly string[] = Object.freeze(["aud", "sub", "sid", "iss", "iat", "exp"]);

/** JwtSubject is the session a JWT speaks for. */
export interface JwtSubject {
  /** The user id (sub). */
  readonly userId: string;
  /** The session id (sid). */
  readonly sessionId: string;
  /** The owning API client (aud): the tenant that may accept the JWT. */
  readonly audience: string;
}

/** JwtIssuer signs short-lived session JWTs and publishes its public keys. */
export interface JwtIssuer {
  /** Signs `extra` claims (reserved names dropped) with the subject's reserved ones. */
  sign(subject: JwtSubject, lifetimeSeconds: number, extra?: Readonly<Record<string, unknown>>): Promise<string>;
  /** Every configured key's public half; the signing key first. */
  publicKeys(): readonly PublicJwk[];
}

/**
 * createJwtIssuer signs with the first key (ES256) and publishes all of them,
 * so a new key can be published before it signs and an old one kept until
 * the JWTs it signed have expired.
 */
export function createJwtIssuer(keys: readonly JsonWebKeyWithKid[], issuer: string): JwtIssuer {
  const active = keys[0];
  if (!active) throw new Error("JWT issuer needs at least one signing key");
  const signingKey = importJWK({ ...(active as JWK), alg: "ES256" }, "ES256");
  const published = Object.freeze(
    keys.map((k) => Object.freeze({
      kty: String(k.kty),
      crv: String(k.crv),
      x: String(k.x),
      y: String(k.y),
      kid: k.kid,
      alg: "ES256",
      use: "sig",
    })),
  );
  return {
    async sign(subject, lifetimeSeconds, extra = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(extra)) if (!reservedClaims.includes(name)) claims[name] = value;
      claims.sid = subject.sessionId;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: active.kid, typ: "JWT" })
        .setSubject(subject.userId)
        .setAudience(subject.audience)
        .setIssuer(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + lifetimeSeconds)
        .sign(await signingKey);
    },
    publicKeys: () => published,
  };
}
