import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { parseApiClients, type ApiClient } from "./parse-api-clients.js";
import { parseCorsHeaders } from "./parse-cors-headers.js";
import { parseCorsOrigins } from "./parse-cors-origins.js";
import { parseKeyRing, type KeyRingEntry } from "./parse-key-ring.js";
import { parseWebhooks, type Webhook } from "./parse-webhooks.js";
import { parseTraceSampling, type TraceSampling } from "./parse-trace-sampling.js";
import { reservedClaims } from "../crypto/jwt-issuer.js";
import type { TokenFormat } from "../crypto/token-locator.js";

/** Config is the service's validated configuration; parsed once, then frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** Where Redis is: one server (URL), a Sentinel group, or a Cluster. */
  readonly redis: RedisTarget;
  /**
   * Replicas that must acknowledge a write (Redis WAIT) before the call
   * that made it succeeds; 0: none (replication stays asynchronous).
   */
  readonly redisWaitReplicas: number;
  /** How long a write waits for them (WAIT's timeout); fewer in time: UNAVAILABLE. */
  readonly redisWaitTimeoutMs: number;
  readonly apiClients: readonly ApiClient[];
  /** AES-256-GCM keys for tokens at rest; the first one encrypts. */
  readonly tokenEncryptionKeys: readonly KeyRingEntry[];
  /**
   * The format new minted tokens take (token-locator.ts); both are always
   * read. 1 by default in this release: replicas of the previous one read
   * only format 1. 2 (cheaper to check) once none of those runs.
   */
  readonly tokenFormat: TokenFormat;
  /** HMAC-SHA-256 key for token lookups and page tokens. */
  readonly tokenHmacKey: Buffer;
  /** ES256 private JWKs (JSON); the first one signs, all are published. */
  readonly jwtSigningKeys: readonly JsonWebKeyWithKid[];
  readonly jwtIssuer: string;
  readonly jwtTtlSeconds: number;
  readonly jwtTemplates: Readonly<Record<string, JwtTemplate>>;
  readonly idleTimeoutSeconds: number;
  readonly maxLifetimeSeconds: number;
  readonly maxSessionsPerUser: number;
  readonly evictOldestAtLimit: boolean;
  readonly cookieSecure: boolean;
  readonly cookieDomain: string | undefined;
  /** Browser origins allowed to call, exactly as browsers send them, or "*". */
  readonly corsAllowedOrigins: readonly string[];
  /** Request headers browsers may send on top of the built-in ones (lower case). */
  readonly corsAllowedHeaders: readonly string[];
  readonly maxBodyBytes: number;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  /** HTTP/1.1: the whole request (headers and body) must arrive within this. */
  readonly httpRequestTimeoutMs: number;
  /** HTTP/1.1: the request headers must arrive within this (also the first bytes of any connection). */
  readonly httpHeadersTimeoutMs: number;
  /** HTTP/2: a session with no open stream and no traffic for this long is closed; 0 = never. */
  readonly http2IdleTimeoutMs: number;
  /** HTTP/2: streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly http2MaxConcurrentStreams: number;
  /** Largest request header block: HTTP/1.1 maxHeaderSize, HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE. */
  readonly httpMaxHeaderBytes: number;
  // Monitoring.
  readonly metrics: MetricsListen;
  /** OTLP/HTTP base URL for exported spans; none are exported when unset. */
  readonly otelExporterOtlpEndpoint: string | undefined;
  readonly otelServiceName: string;
  /** Which calls' spans are exported (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG). */
  readonly otelTraceSampling: TraceSampling;
  // Store upkeep.
  /** How often the tenant index is swept of entries whose session expired (index-sweeper.ts). */
  readonly indexSweepIntervalMs: number;
  /** Active tenant index entries the sweeper checks per bucket per pass. */
  readonly indexSweepBatch: number;
  // Session events (src/events).
  /** Whether session changes are written as events (EVENTS). */
  readonly eventsEnabled: boolean;
  /** How long events are kept (MINID trimming), seconds. */
  readonly eventsRetentionSeconds: number;
  /** Event streams (SSE, WatchSessionEvents): a heartbeat after this long without events. */
  readonly eventsHeartbeatMs: number;
  // Webhooks (src/webhooks): at most one per API client.
  readonly webhooks: readonly Webhook[];
  /** One POST's time limit (connect to response headers). */
  readonly webhookTimeoutMs: number;
  /** Attempts per event before it is given up (logged) and the next one is sent. */
  readonly webhookMaxAttempts: number;
  /** The wait after a first failed attempt; it doubles with each further failure (with jitter), up to the max. */
  readonly webhookRetryBaseMs: number;
  readonly webhookRetryMaxDelayMs: number;
  /** How long a replica's hold on a client's delivery lasts unrenewed (another replica takes over after). */
  readonly webhookLeaseMs: number;
}

/** Where /metrics is served: on the service's port, on a port of its own, or not at all. */
export type MetricsListen = { readonly kind: "main" } | { readonly kind: "port"; readonly port: number } | { readonly kind: "off" };

export type RedisTarget =
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "sentinel"; readonly sentinels: readonly HostPort[]; readonly name: string; readonly password?: string }
  | { readonly kind: "cluster"; readonly nodes: readonly HostPort[]; readonly password?: string };

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface JsonWebKeyWithKid {
  readonly kid: string;
  readonly [key: string]: unknown;
}

/** JwtTemplate shapes the JWTs of one named template. */
export interface JwtTemplate {
  readonly lifetimeSeconds: number;
  /** Claim name → profile field it is copied from. */
  readonly claims: Readonly<Record<string, string>>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

/**
 * parseConfig validates the environment once. Every problem is reported
 * together, by variable name, so a bad deployment fails at start with one
 * readable message instead of at the first request.
 */
export function parseConfig(env: Env): Config {
  const problems: string[] = [];
  const read = <T>(name: string, parse: (v: string) => T, fallback?: T): T => {
    const raw = env[name];
    if (raw === undefined || raw === "") {
      if (fallback === undefined) {
        problems.push(`${name} is required`);
        return undefined as T;
      }
      return fallback;
    }
    try {
      return parse(raw);
    } catch (e) {
      problems.push(`${name}: ${(e as Error).message}`);
      return undefined as T;
    }
  };
  // A setting read from several variables reports its own names.
  const tryParse = <T>(parse: () => T): T => {
    try {
      return parse();
    } catch (e) {
      problems.push((e as Error).message);
      return undefined as T;
    }
  };
  const int = (min: number, max: number) => (v: string) => {
    if (!/^\d+$/.test(v)) throw new Error(`"${v}" is not a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new Error(`${n} is outside ${min}..${max}`);
    return n;
  };
  const bool = (v: string) => {
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    throw new Error(`"${v}" is not a boolean`);
  };

  const idleTimeoutSeconds = read("SESSION_IDLE_TIMEOUT_SECONDS", int(1, 31_536_000), 7200);
  const maxLifetimeSeconds = read("SESSION_MAX_LIFETIME_SECONDS", int(1, 31_536_000), 30 * 86400);
  const httpRequestTimeoutMs = read("HTTP_REQUEST_TIMEOUT_MS", int(1000, 3_600_000), 30_000);
  const apiClients = read("API_CLIENTS", parseApiClients);
  const config: Config = {
    port: read("PORT", int(0, 65535), 8080),
    host: read("HOST", (v) => v, "0.0.0.0"),
    redis: parseRedisTarget(env, problems),
    // A create waits at most twice (its pointer and index entry, then the
    // session), within the 2 s a store call may take.
    redisWaitReplicas: read("REDIS_WAIT_REPLICAS", int(0, 16), 0),
    redisWaitTimeoutMs: read("REDIS_WAIT_TIMEOUT_MS", int(1, 800), 500),
    apiClients,
    tokenEncryptionKeys: read("TOKEN_ENCRYPTION_KEYS", parseKeyRing),
    tokenFormat: read("TOKEN_FORMAT", (v): TokenFormat => {
      if (v !== "1" && v !== "2") throw new Error(`"${v}" is not 1 or 2`);
      return v === "1" ? 1 : 2;
    }, 1),
    tokenHmacKey: read("TOKEN_HMAC_KEY", (v) => {
      const key = Buffer.from(v, "base64");
      if (key.length < 32) throw new Error("must be at least 32 bytes, base64");
      return key;
    }),
    jwtSigningKeys: read("JWT_SIGNING_KEYS", parseJwks),
    jwtIssuer: read("JWT_ISSUER", (v) => v, "secure-session-storage"),
    jwtTtlSeconds: read("JWT_TTL_SECONDS", int(1, 86400), 60),
    jwtTemplates: read("JWT_TEMPLATES", parseTemplates, {}),
    idleTimeoutSeconds,
    maxLifetimeSeconds,
    maxSessionsPerUser: read("MAX_SESSIONS_PER_USER", int(1, 10_000), 100),
    evictOldestAtLimit: read("EVICT_OLDEST_AT_LIMIT", bool, false),
    cookieSecure: read("COOKIE_SECURE", bool, true),
    cookieDomain: read("COOKIE_DOMAIN", (v) => v, "") || undefined,
    corsAllowedOrigins: read("CORS_ALLOWED_ORIGINS", parseCorsOrigins, []),
    corsAllowedHeaders: read("CORS_ALLOWED_HEADERS", parseCorsHeaders, []),
    maxBodyBytes: read("MAX_BODY_BYTES", int(256, 16 * 1024 * 1024), 64 * 1024),
    logLevel: read("LOG_LEVEL", (v) => {
      if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(v)) throw new Error(`unknown level "${v}"`);
      return v;
    }, "info"),
    shutdownGraceMs: read("SHUTDOWN_GRACE_MS", int(0, 600_000), 10_000),
    httpRequestTimeoutMs,
    httpHeadersTimeoutMs: Math.min(httpRequestTimeoutMs, 20_000),
    http2IdleTimeoutMs: read("HTTP2_IDLE_TIMEOUT_MS", int(0, 86_400_000), 300_000),
    http2MaxConcurrentStreams: read("HTTP2_MAX_CONCURRENT_STREAMS", int(1, 10_000), 100),
    httpMaxHeaderBytes: read("HTTP_MAX_HEADER_BYTES", int(8192, 1024 * 1024), 16 * 1024),
    metrics: read("METRICS_PORT", parseMetricsListen, { kind: "main" } as MetricsListen),
    otelExporterOtlpEndpoint: read("OTEL_EXPORTER_OTLP_ENDPOINT", parseHttpUrl, "") || undefined,
    otelServiceName: read("OTEL_SERVICE_NAME", (v) => v, "secure-session-storage"),
    otelTraceSampling: tryParse(() => parseTraceSampling(env.OTEL_TRACES_SAMPLER, env.OTEL_TRACES_SAMPLER_ARG)),
    // Store upkeep.
    indexSweepIntervalMs: read("INDEX_SWEEP_INTERVAL_MS", int(100, 3_600_000), 30_000),
    indexSweepBatch: read("INDEX_SWEEP_BATCH", int(10, 1_000_000), 500),
    eventsEnabled: read("EVENTS", bool, true),
    eventsRetentionSeconds: read("EVENTS_RETENTION_SECONDS", int(60, 2_592_000), 86_400),
    eventsHeartbeatMs: read("EVENTS_HEARTBEAT_MS", int(100, 300_000), 15_000),
    webhooks: parseWebhooks(env.WEBHOOKS, env.WEBHOOK_SECRETS, apiClients?.map((c) => c.id), problems),
    webhookTimeoutMs: read("WEBHOOK_TIMEOUT_MS", int(100, 60_000), 10_000),
    webhookMaxAttempts: read("WEBHOOK_MAX_ATTEMPTS", int(1, 100), 8),
    webhookRetryBaseMs: read("WEBHOOK_RETRY_BASE_MS", int(10, 600_000), 1_000),
    webhookRetryMaxDelayMs: read("WEBHOOK_RETRY_MAX_DELAY_MS", int(10, 3_600_000), 60_000),
    webhookLeaseMs: read("WEBHOOK_LEASE_MS", int(500, 600_000), 10_000),
  };
  if (config.webhooks.length > 0 && config.eventsEnabled === false) {
    problems.push("WEBHOOKS needs session events: EVENTS is off");
  }
  if (config.webhookRetryBaseMs > config.webhookRetryMaxDelayMs) {
    problems.push("WEBHOOK_RETRY_BASE_MS must not exceed WEBHOOK_RETRY_MAX_DELAY_MS");
  }
  if (idleTimeoutSeconds > maxLifetimeSeconds) {
    problems.push("SESSION_IDLE_TIMEOUT_SECONDS must not exceed SESSION_MAX_LIFETIME_SECONDS");
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function parseRedisTarget(env: Env, problems: string[]): RedisTarget {
  const url = env.REDIS_URL || undefined;
  const sentinels = env.REDIS_SENTINELS || undefined;
  const cluster = env.REDIS_CLUSTER_NODES || undefined;
  const password = env.REDIS_PASSWORD || undefined;
  const given = [url, sentinels, cluster].filter(Boolean).length;
  if (given !== 1) {
    problems.push(given === 0
      ? "REDIS_URL (or REDIS_SENTINELS with REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES) is required"
      : "set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES");
    return { kind: "url", url: "" };
  }
  try {
    if (url) {
      if (!/^rediss?:\/\//.test(url)) throw new Error("REDIS_URL must start with redis:// or rediss://");
      return { kind: "url", url };
    }
    if (sentinels) {
      const name = env.REDIS_SENTINEL_NAME;
      if (!name) throw new Error("REDIS_SENTINEL_NAME is required with REDIS_SENTINELS");
      return { kind: "sentinel", sentinels: parseHostPorts(sentinels, "REDIS_SENTINELS"), name, password };
    }
    return { kind: "cluster", nodes: parseHostPorts(cluster!, "REDIS_CLUSTER_NODES"), password };
  } catch (e) {
    problems.push((e as Error).message);
    return { kind: "url", url: "" };
  }
}

function parseHostPorts(v: string, name: string): HostPort[] {
  return v.split(",").map((p) => p.trim()).filter(Boolean).map((p) => {
    const match = /^([^:]+):(\d{1,5})$/.exec(p);
    if (!match) throw new Error(`${name}: "${p}" must be host:port`);
    return { host: match[1]!, port: Number(match[2]) };
  });
}

/**
 * parseJwks accepts only keys the JWT issuer can sign with: EC P-256 private
 * JWKs whose d really belongs to their x and y (checked by signing once), so
 * a wrong key fails here and not at the first token request.
 */
function parseJwks(v: string): JsonWebKeyWithKid[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    // JSON.parse's own message quotes the input, which is secret.
    throw new Error("is not valid JSON");
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error("must be a JSON array of private JWKs");
  const kids = new Set<string>();
  return parsed.map((k: unknown, i) => {
    if (typeof k !== "object" || k === null || Array.isArray(k)) throw new Error(`key ${i} must be a JWK object`);
    const jwk = k as Record<string, unknown>;
    if (jwk.kty !== "EC" || jwk.crv !== "P-256") throw new Error(`key ${i} must be an EC P-256 key (kty "EC", crv "P-256")`);
    for (const field of ["x", "y", "d", "kid"]) {
      if (typeof jwk[field] !== "string" || jwk[field] === "") throw new Error(`key ${i} needs "${field}" (a private JWK with a kid)`);
    }
    const kid = jwk.kid as string;
    if (kids.has(kid)) throw new Error(`kid "${kid}" is used twice`);
    kids.add(kid);
    if (!isUsableP256Key(jwk)) throw new Error(`key ${i} (kid "${kid}") is not a usable P-256 private key: d must be the private half of x, y`);
    return Object.freeze({ ...jwk, kid });
  });
}

function isUsableP256Key(jwk: Record<string, unknown>): boolean {
  const { kty, crv, x, y, d } = jwk as Record<string, string>;
  try {
    const privateKey = createPrivateKey({ key: { kty, crv, x, y, d }, format: "jwk" });
    const publicKey = createPublicKey({ key: { kty, crv, x, y }, format: "jwk" });
    const probe = Buffer.from("jwt-signing-key-probe");
    return verify("sha256", probe, publicKey, sign("sha256", probe, privateKey));
  } catch {
    return false;
  }
}

function parseTemplates(v: string): Record<string, JwtTemplate> {
  const parsed = JSON.parse(v) as Record<string, { lifetime_seconds?: unknown; claims?: unknown }>;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("must be a JSON object of templates");
  const out: Record<string, JwtTemplate> = {};
  for (const [name, t] of Object.entries(parsed)) {
    const lifetime = t.lifetime_seconds ?? 60;
    if (typeof lifetime !== "number" || !Number.isInteger(lifetime) || lifetime < 1 || lifetime > 86400) {
      throw new Error(`template "${name}": lifetime_seconds must be 1..86400`);
    }
    const claims = (t.claims ?? {}) as Record<string, unknown>;
    for (const [claim, field] of Object.entries(claims)) {
      if (typeof field !== "string") throw new Error(`template "${name}": claim "${claim}" must name a profile field`);
      // The issuer sets these itself; a template that names one is a mistake to catch now.
      if (reservedClaims.includes(claim)) {
        throw new Error(`template "${name}": claim "${claim}" is set by the service and cannot come from a template (reserved: ${reservedClaims.join(", ")})`);
      }
    }
    out[name] = Object.freeze({ lifetimeSeconds: lifetime, claims: Object.freeze(claims as Record<string, string>) });
  }
  return Object.freeze(out);
}

// "main" (the default): /metrics on the service's port; "off"; or a port of its own.
function parseMetricsListen(v: string): MetricsListen {
  if (v === "main") return { kind: "main" };
  if (v === "off") return { kind: "off" };
  const port = Number(v);
  if (!/^\d+$/.test(v) || port < 1 || port > 65535) throw new Error(`must be "main", "off" or a port number (1-65535), not "${v}"`);
  return { kind: "port", port };
}

function parseHttpUrl(v: string): string {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new Error("must be an http:// or https:// URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("must be an http:// or https:// URL");
  return v;
}
