import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { ConfigError, parseConfig } from "../src/config/config.js";
import { configWarnings } from "../src/config/config-warnings.js";
import { fillMissingSecrets } from "../src/local/fill-missing-secrets.js";

// Settings that used to be accepted silently and then failed at the first
// request (or never visibly) are refused at start, each problem named.

const secret = () => randomBytes(24).toString("base64url");
const jwks = JSON.stringify([{ ...generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }), kid: "k" }]);
const base = () => ({
  REDIS_URL: "redis://127.0.0.1:1",
  API_CLIENTS: `acme:${secret()},globex:${secret()}`,
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
  TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
  JWT_SIGNING_KEYS: jwks,
});

const parse = (env: Record<string, string>) => parseConfig({ ...base(), ...env });

/** The start error for `env` on top of a valid base, or "" when it is accepted. */
function problems(env: Record<string, string>): string {
  try {
    parse(env);
    return "";
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
}

describe("CORS_ALLOWED_ORIGINS", () => {
  test("a trailing slash is a start error naming the variable and saying what to write", () => {
    const message = problems({ CORS_ALLOWED_ORIGINS: "http://localhost:18601/" });
    expect(message).toContain("CORS_ALLOWED_ORIGINS");
    expect(message).toContain('"http://localhost:18601/"');
    expect(message).toContain("write http://localhost:18601");
  });

  test.each([
    ["https://app.example.com/login", "path"],
    ["ftp://app.example.com", "http or https"],
    ["app.example.com", "not an origin"],
    ["localhost:8080", "http or https"],
    ["https://App.Example.com", "write https://app.example.com"],
    ["https://app.example.com:443", "write https://app.example.com"],
    ["https://user:pw@app.example.com", "user name"],
    ["https://app.example.com?x=1", "path, query"],
    ["not an origin", "not an origin"],
  ])("%s is refused (%s)", (origin, reason) => {
    const message = problems({ CORS_ALLOWED_ORIGINS: `https://ok.example.com,${origin}` });
    expect(message).toContain("CORS_ALLOWED_ORIGINS");
    expect(message).toContain(reason);
    expect(message).not.toContain("ok.example.com\"");
  });

  test("origins as browsers send them, and *, are accepted", () => {
    expect(problems({ CORS_ALLOWED_ORIGINS: "https://app.example.com, http://localhost:18601,*, http://[::1]:8080" })).toBe("");
  });

  test('"*" is accepted with a start warning that it disables credentialed calls', () => {
    const config = parse({ CORS_ALLOWED_ORIGINS: "*" });
    const warnings = configWarnings(config);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("CORS_ALLOWED_ORIGINS");
    expect(warnings[0]).toContain("cookie API");
    expect(configWarnings(parse({ CORS_ALLOWED_ORIGINS: "https://app.example.com" }))).toEqual([]);
  });
});

describe("CORS_ALLOWED_HEADERS", () => {
  test("header names are accepted (lower-cased); anything else is refused", () => {
    expect(parse({ CORS_ALLOWED_HEADERS: "X-Tenant-Hint, baggage" }).corsAllowedHeaders).toEqual(["x-tenant-hint", "baggage"]);
    const message = problems({ CORS_ALLOWED_HEADERS: "x-ok, bad header, *" });
    expect(message).toContain("CORS_ALLOWED_HEADERS");
    expect(message).toContain('"bad header"');
    expect(message).toContain('"*"');
  });

  test("allowing ClientID or ClientSecret from browsers is warned about at start", () => {
    const warnings = configWarnings(parse({ CORS_ALLOWED_HEADERS: "ClientID,ClientSecret" }));
    expect(warnings.join("\n")).toMatch(/clientid, clientsecret.*back ends/);
  });
});

describe("API_CLIENTS secrets", () => {
  test("a secret shorter than 32 characters is refused, naming the client, never the secret", () => {
    const short = "Ab3dE5gH7jK9mN1pQ3sT5vX"; // 23 characters, all distinct enough
    const message = problems({ API_CLIENTS: `acme:${secret()},globex:${short}` });
    expect(message).toContain('API_CLIENTS: client "globex": the secret must be at least 32 characters');
    expect(message).not.toContain(short);
  });

  test("a secret with fewer than 16 distinct characters is refused", () => {
    const repetitive = "ab".repeat(20); // 40 characters, 2 distinct
    const message = problems({ API_CLIENTS: `acme:${repetitive}` });
    expect(message).toContain('client "acme": the secret must have at least 16 distinct characters');
    expect(message).not.toContain(repetitive);
  });

  test("two clients with the same secret are refused, naming both", () => {
    const shared = secret();
    const message = problems({ API_CLIENTS: `acme:${shared},globex:${secret()},initech:${shared}` });
    expect(message).toContain('clients "acme" and "initech" have the same secret');
    expect(message).not.toContain(shared);
  });

  test("every problem is reported at once, with the other variables' problems", () => {
    const message = problems({
      API_CLIENTS: `acme:${"x".repeat(40)},globex:short`,
      CORS_ALLOWED_ORIGINS: "http://localhost:18601/",
      PORT: "http",
    });
    expect(message).toContain('client "acme"');
    expect(message).toContain('client "globex"');
    expect(message).toContain("CORS_ALLOWED_ORIGINS");
    expect(message).toContain("PORT");
  });

  test("32 random base64url characters pass (the test apps' secrets), and so do generated local secrets", () => {
    expect(problems({ API_CLIENTS: `acme:${secret()}` })).toBe("");
    const dir = mkdtempSync(path.join(os.tmpdir(), "sss-config-"));
    try {
      for (let i = 0; i < 20; i++) {
        const { env } = fillMissingSecrets({}, path.join(dir, `secrets-${i}.json`), ["API_CLIENTS"]);
        expect(problems({ API_CLIENTS: env.API_CLIENTS! })).toBe("");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("HTTP limits", () => {
  test("HTTP2_MAX_CONCURRENT_STREAMS and HTTP_MAX_HEADER_BYTES have bounded defaults and ranges", () => {
    const config = parse({});
    expect(config.http2MaxConcurrentStreams).toBe(100);
    expect(config.httpMaxHeaderBytes).toBe(16 * 1024);
    expect(parse({ HTTP2_MAX_CONCURRENT_STREAMS: "250", HTTP_MAX_HEADER_BYTES: "32768" })).toMatchObject({ http2MaxConcurrentStreams: 250, httpMaxHeaderBytes: 32768 });
    const message = problems({ HTTP2_MAX_CONCURRENT_STREAMS: "0", HTTP_MAX_HEADER_BYTES: "100" });
    expect(message).toContain("HTTP2_MAX_CONCURRENT_STREAMS");
    expect(message).toContain("HTTP_MAX_HEADER_BYTES");
  });
});

describe("OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG", () => {
  test("the SDK's default (parentbased_always_on); the specification's names and a ratio from 0 to 1 are accepted", () => {
    expect(parse({}).otelTraceSampling).toEqual({ sampler: "parentbased_always_on", ratio: 1 });
    expect(parse({ OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.01" }).otelTraceSampling).toEqual({ sampler: "parentbased_traceidratio", ratio: 0.01 });
    expect(parse({ OTEL_TRACES_SAMPLER: "always_off" }).otelTraceSampling.sampler).toBe("always_off");
  });

  test.each([
    [{ OTEL_TRACES_SAMPLER: "sometimes" }, 'unknown sampler "sometimes"'],
    [{ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "1.5" }, "OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1"],
    [{ OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "half" }, "OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1"],
  ])("%j is refused at start, saying why", (env, reason) => {
    expect(problems(env)).toContain(reason);
  });
});

describe("REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS", () => {
  test("off by default (asynchronous replication), with a 500 ms wait when turned on", () => {
    expect(parse({})).toMatchObject({ redisWaitReplicas: 0, redisWaitTimeoutMs: 500 });
    expect(parse({ REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "250" })).toMatchObject({ redisWaitReplicas: 1, redisWaitTimeoutMs: 250 });
    expect(parse({ REDIS_WAIT_REPLICAS: "16", REDIS_WAIT_TIMEOUT_MS: "800" })).toMatchObject({ redisWaitReplicas: 16, redisWaitTimeoutMs: 800 });
  });

  test.each([
    [{ REDIS_WAIT_REPLICAS: "-1" }, "REDIS_WAIT_REPLICAS", "not a whole number"],
    [{ REDIS_WAIT_REPLICAS: "one" }, "REDIS_WAIT_REPLICAS", "not a whole number"],
    [{ REDIS_WAIT_REPLICAS: "17" }, "REDIS_WAIT_REPLICAS", "outside 0..16"],
    // WAIT with timeout 0 blocks until enough replicas answer, however long.
    [{ REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "0" }, "REDIS_WAIT_TIMEOUT_MS", "outside 1..800"],
    // Two waits of a create must fit in the 2 s a store call may take.
    [{ REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_TIMEOUT_MS: "1000" }, "REDIS_WAIT_TIMEOUT_MS", "outside 1..800"],
    [{ REDIS_WAIT_TIMEOUT_MS: "0.5" }, "REDIS_WAIT_TIMEOUT_MS", "not a whole number"],
  ])("%j is refused, naming the variable", (env, name, reason) => {
    const message = problems(env);
    expect(message).toContain(`${name}: `);
    expect(message).toContain(reason);
  });
});

describe("TOKEN_FORMAT", () => {
  test("mints format 1 by default (what replicas of the previous release read); 2 once none of those runs", () => {
    expect(parse({}).tokenFormat).toBe(1);
    expect(parse({ TOKEN_FORMAT: "1" }).tokenFormat).toBe(1);
    expect(parse({ TOKEN_FORMAT: "2" }).tokenFormat).toBe(2);
  });

  test.each(["0", "3", "v2", "2.0"])("%j is refused, naming the variable", (value) => {
    expect(problems({ TOKEN_FORMAT: value })).toContain(`TOKEN_FORMAT: "${value}" is not 1 or 2`);
  });
});

describe("WEBHOOKS and WEBHOOK_SECRETS", () => {
  const whsec = (bytes = 32) => `whsec_${randomBytes(bytes).toString("base64")}`;

  test("none by default; clientId=url or JSON (with an event-type filter), each with its whsec_ secret, as key bytes", () => {
    expect(parse({})).toMatchObject({ webhooks: [], webhookTimeoutMs: 10_000, webhookMaxAttempts: 8, webhookRetryBaseMs: 1_000, webhookRetryMaxDelayMs: 60_000, webhookLeaseMs: 10_000 });
    const key = randomBytes(32);
    const list = parse({ WEBHOOKS: "acme=https://hooks.acme.test/sessions?x=1", WEBHOOK_SECRETS: `acme=whsec_${key.toString("base64")}` });
    expect(list.webhooks).toEqual([{ clientId: "acme", url: "https://hooks.acme.test/sessions?x=1", secret: key, types: [] }]);
    const json = parse({
      WEBHOOKS: JSON.stringify({ acme: "http://10.0.0.5:9000/h", globex: { url: "https://globex.test/h", types: ["revoked", "expired"] } }),
      WEBHOOK_SECRETS: `acme=${whsec()}, globex=${whsec(24)}`,
    });
    expect(json.webhooks.map((w) => [w.clientId, w.types])).toEqual([["acme", []], ["globex", ["revoked", "expired"]]]);
    expect(Object.isFrozen(json.webhooks[1]!.types)).toBe(true);
  });

  test.each([
    [{ WEBHOOKS: "acme=ftp://hooks.acme.test/x", WEBHOOK_SECRETS: "acme=SECRET" }, 'client "acme": the hook must be an http:// or https:// URL'],
    [{ WEBHOOKS: "acme=not a url", WEBHOOK_SECRETS: "acme=SECRET" }, 'client "acme": the hook is not a URL'],
    [{ WEBHOOKS: "acme=https://user:pw@hooks.acme.test/", WEBHOOK_SECRETS: "acme=SECRET" }, "must not carry a user name or password"],
    [{ WEBHOOKS: "initech=https://hooks.test/", WEBHOOK_SECRETS: "initech=SECRET" }, '"initech" is not a client of API_CLIENTS'],
    [{ WEBHOOKS: "acme=https://a.test/,acme=https://b.test/", WEBHOOK_SECRETS: "acme=SECRET" }, 'client "acme" has more than one hook'],
    [{ WEBHOOKS: "https://hooks.test/", WEBHOOK_SECRETS: "acme=SECRET" }, "entry 1 must be clientId=url"],
    [{ WEBHOOKS: "acme=https://hooks.test/" }, 'no secret for client "acme"'],
    [{ WEBHOOKS: "acme=https://hooks.test/", WEBHOOK_SECRETS: "acme=SECRET,globex=SECRET" }, 'client "globex" has a secret but no hook'],
    [{ WEBHOOK_SECRETS: "acme=SECRET" }, "WEBHOOK_SECRETS is set but WEBHOOKS is not"],
    [{ WEBHOOKS: "acme=https://a.test/,globex=https://b.test/", WEBHOOK_SECRETS: "acme=SECRET,globex=SECRET" }, 'clients "acme" and "globex" have the same secret'],
    [{ WEBHOOKS: '{"acme": {"url": "https://hooks.test/", "types": ["touched"]}}', WEBHOOK_SECRETS: "acme=SECRET" }, 'unknown event type "touched"'],
    [{ WEBHOOKS: '{"acme": 1}', WEBHOOK_SECRETS: "acme=SECRET" }, 'client "acme" must be a URL string or {"url"'],
    [{ WEBHOOKS: "{acme", WEBHOOK_SECRETS: "acme=SECRET" }, "WEBHOOKS is not valid JSON"],
    [{ WEBHOOKS: "acme=https://hooks.test/", WEBHOOK_SECRETS: "acme=SECRET", EVENTS: "false" }, "WEBHOOKS needs session events: EVENTS is off"],
    [{ WEBHOOK_RETRY_BASE_MS: "5000", WEBHOOK_RETRY_MAX_DELAY_MS: "1000" }, "WEBHOOK_RETRY_BASE_MS must not exceed WEBHOOK_RETRY_MAX_DELAY_MS"],
    [{ WEBHOOK_MAX_ATTEMPTS: "0" }, "WEBHOOK_MAX_ATTEMPTS: 0 is outside 1..100"],
    [{ WEBHOOK_LEASE_MS: "100" }, "WEBHOOK_LEASE_MS: 100 is outside 500..600000"],
  ])("%j is refused at start, saying why", (env, reason) => {
    const good = whsec();
    const message = problems(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replaceAll("SECRET", good)])));
    expect(message).toContain(reason);
    expect(message).not.toContain(good.slice(6, 20));
  });

  test.each([
    ["a secret without whsec_", () => randomBytes(32).toString("base64"), "must start with whsec_"],
    ["a secret that is not base64", () => `whsec_${randomBytes(30).toString("base64url").replace(/[-_]/g, "")}!!`, "not base64"],
    ["a short secret", () => whsec(16), "24-64 bytes, base64 (it is 16)"],
    ["a long secret", () => whsec(65), "24-64 bytes, base64 (it is 65)"],
  ])("%s is refused, naming the client and never the secret", (_what, make, reason) => {
    const secret = make();
    const message = problems({ WEBHOOKS: "acme=https://hooks.test/", WEBHOOK_SECRETS: `acme=${secret}` });
    expect(message).toContain(`WEBHOOK_SECRETS: client "acme": `);
    expect(message).toContain(reason);
    expect(message).not.toContain(secret.slice(8, 24));
  });
});

describe("WEBHOOKS over plain HTTP", () => {
  test("a plain http:// hook is warned about at start, unless it stays on this machine", () => {
    const whsec = `whsec_${randomBytes(32).toString("base64")}`;
    const other = `whsec_${randomBytes(32).toString("base64")}`;
    const plain = parse({ WEBHOOKS: "acme=http://hooks.acme.test/h,globex=http://127.0.0.1:9000/h", WEBHOOK_SECRETS: `acme=${whsec},globex=${other}` });
    const warnings = configWarnings(plain);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('client "acme" is plain http:// to hooks.acme.test');
    expect(configWarnings(parse({ WEBHOOKS: "acme=https://hooks.acme.test/h", WEBHOOK_SECRETS: `acme=${whsec}` }))).toEqual([]);
  });
});
