/**
 * npm run bench:parts: where a validation's CPU goes below the transport, in
 * one process (pinned to core 0; its own redis-server on core 1). It runs
 * the service's own modules from dist/ (as production runs them), 50 lookups
 * in flight, variants interleaved over rounds, and prints each variant's
 * CPU-µs per lookup (this process's utime + stime ÷ lookups): the minimum and
 * the median over rounds. One process and no sockets of its own make these
 * far steadier than `npm run bench` on a shared machine, so a change of a
 * microsecond shows; they say nothing of HTTP, gRPC or protobuf.
 *
 *   BENCH_ROUNDS (20), BENCH_LOOKUPS (8000 per variant and round)
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { bareLookup } from "./bare-lookup.js";
import { seedBare } from "./bare-seed.js";
import { onEnd } from "./children.js";
import { startRedis } from "./redis-server.js";
import { profile, sessionsPerUser } from "./seed-service.js";
import { ensureBuild } from "./service.js";

// The compiled service (dist/), typed by its sources.
const dist = (module: string) => new URL(`../../dist/src/${module}`, import.meta.url).href;
type Config = typeof import("../src/config/config.js");
type Crypto = typeof import("../src/crypto/token-locator.js") & typeof import("../src/crypto/keyed-hash.js") & typeof import("../src/crypto/token-cipher.js");

const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const lookups = Number(process.env.BENCH_LOOKUPS ?? 8000);
const inFlight = 50;
const sessions = 1000;

ensureBuild();
const dir = mkdtempSync(path.join(os.tmpdir(), "sss-parts-"));
onEnd(() => rmSync(dir, { recursive: true, force: true }));
const redisUrl = await startRedis(dir);

const { parseConfig } = (await import(dist("config/config.js"))) as Config;
const { createRedisClient, waitUntilReady } = (await import(dist("store/redis-client.js"))) as typeof import("../src/store/redis-client.js");
const { createRedisSessionStore } = (await import(dist("store/redis-session-store.js"))) as typeof import("../src/store/redis-session-store.js");
const { withDeadline } = (await import(dist("store/with-deadline.js"))) as typeof import("../src/store/with-deadline.js");
const { createSessionCore } = (await import(dist("core/session-core.js"))) as typeof import("../src/core/session-core.js");
const { splitSessionId } = (await import(dist("core/session-id.js"))) as typeof import("../src/core/session-id.js");
const { redisKeys } = (await import(dist("store/redis-keys.js"))) as typeof import("../src/store/redis-keys.js");
const { defineRedisScripts } = (await import(dist("store/redis-scripts.js"))) as typeof import("../src/store/redis-scripts.js");
const { instrumentRedis } = (await import(dist("observability/instrument-redis.js"))) as typeof import("../src/observability/instrument-redis.js");
const { createMetrics } = (await import(dist("observability/metrics.js"))) as typeof import("../src/observability/metrics.js");
const crypto = {
  ...((await import(dist("crypto/token-locator.js"))) as object),
  ...((await import(dist("crypto/keyed-hash.js"))) as object),
  ...((await import(dist("crypto/token-cipher.js"))) as object),
} as Crypto;

const config = parseConfig({
  REDIS_URL: redisUrl,
  API_CLIENTS: `bench:${randomBytes(24).toString("base64url")}`,
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
  TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
  // As the service runs in `npm run bench` (bench/service.ts).
  TOKEN_FORMAT: "2",
  MAX_SESSIONS_PER_USER: String(sessionsPerUser),
  // Required by the configuration; nothing here signs.
  JWT_SIGNING_KEYS: JSON.stringify([{ ...generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }), kid: "parts" }]),
});
// The service's client, as createApp sets it up with metrics on (the default).
const redis = createRedisClient(config.redis);
instrumentRedis(redis, createMetrics());
await waitUntilReady(redis, 5000);
const store = createRedisSessionStore(redis, { eventsRetentionMs: config.eventsRetentionSeconds * 1000 });
const locator = crypto.createTokenLocator(config.tokenEncryptionKeys, config.tokenFormat);
const tokenHash = crypto.createKeyedHash(config.tokenHmacKey, "token-lookup", 16);
const core = createSessionCore({
  store: withDeadline(store, 2000),
  cipher: crypto.createTokenCipher(config.tokenEncryptionKeys),
  tokenHash,
  tokenLocator: locator,
  config,
});

const tokens: string[] = [];
for (let i = 0; i < sessions; i++) {
  tokens.push((await core.create({ tenantId: "bench", userId: `user-${Math.floor(i / sessionsPerUser)}`, profile })).token);
}
// Each token's lookup as the core makes it, for the variants below the core.
const found = tokens.map((token) => {
  const at = locator.locate(token)!;
  const { userId, suffix } = splitSessionId(at.sessionId)!;
  return { hash: tokenHash.digest(token), at, key: redisKeys.session(at.tenantId, userId, suffix) };
});
// The same sessions' tokens as format 1 would mint them (locate reads both formats).
const formatOneLocator = crypto.createTokenLocator(config.tokenEncryptionKeys, 1);
const formatOneTokens = found.map(({ at }) => formatOneLocator.mint(at).token);
const bareKey = randomBytes(32);
const seeder = new Redis(redisUrl);
const bareTokens = await seedBare(seeder, bareKey, 0, sessions);
await seeder.quit();
const bare = bareLookup(redisUrl, bareKey);
// The hot path's script as the bare servers run theirs: defineCommand on an auto-pipelined client (no instrumentation).
const plain = new Redis(redisUrl, { enableAutoPipelining: true });
const lua = ["prelude.lua", "slide-session.lua"].map((f) => readFileSync(new URL(`../../dist/src/store/lua/${f}`, import.meta.url), "utf8")).join("\n");
plain.defineCommand("slide", { numberOfKeys: 1, lua });
const slide = (plain as unknown as { slide: (...args: string[]) => Promise<unknown> }).slide.bind(plain);

// The same script as the store runs it, on the store's client.
const serviceSlide = defineRedisScripts(redis).ssSlideSession;

type Variant = { name: string; what: string; run: (i: number) => unknown };
const variants: Variant[] = [
  { name: "bare lookup", what: "the bare servers' work: HMAC, one EVALSHA, decode", run: (i) => bare(bareTokens[i % sessions]!) },
  { name: "script, plain client", what: "the service's script and reply, defineCommand, auto-pipelined", run: (i) => slide(found[i % sessions]!.key, String(Date.now()), found[i % sessions]!.hash, "1") },
  { name: "script, service client", what: "as the store sends it: one Command, writes batched per turn, Redis metrics", run: (i) => serviceSlide(found[i % sessions]!.key, String(Date.now()), found[i % sessions]!.hash, "1") },
  { name: "store.findByToken", what: "+ the store: key from the locator, reply decoded into a session", run: (i) => store.findByToken(found[i % sessions]!, Date.now(), true) },
  { name: "core.authenticate", what: "+ locator (format 2), HMAC, deadline bound", run: (i) => core.authenticate(tokens[i % sessions]!, true) },
  { name: "locate (sync)", what: "the token's location: HKDF-SHA-512 keystream (format 2)", run: (i) => locator.locate(tokens[i % sessions]!) },
  { name: "locate, format 1 (sync)", what: "the same for a format 1 token: AES-256-GCM (TOKEN_FORMAT's default)", run: (i) => locator.locate(formatOneTokens[i % sessions]!) },
  { name: "HMAC (sync)", what: "the token's keyed hash", run: (i) => tokenHash.digest(tokens[i % sessions]!) },
];

async function measure(variant: Variant): Promise<number> {
  let next = 0;
  const start = process.cpuUsage();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < lookups) {
      const result = await variant.run(next++);
      if (result === undefined || result === null) throw new Error(`${variant.name}: a lookup found nothing`);
    }
  }));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / lookups;
}

const samples = new Map<Variant, number[]>(variants.map((v) => [v, []]));
for (let round = 0; round < rounds + 1; round++) {
  for (const variant of variants) {
    const us = await measure(variant);
    // The first round warms the JIT up.
    if (round > 0) samples.get(variant)!.push(us);
  }
}
const fmt = (n: number) => n.toFixed(1);
console.log(`| part | what it adds | CPU-µs per lookup, min | median |\n| --- | --- | --- | --- |`);
for (const [variant, values] of samples) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(`| ${variant.name} | ${variant.what} | ${fmt(sorted[0]!)} | ${fmt(sorted[sorted.length >> 1]!)} |`);
}
console.log(`\nnode ${process.version}; ${rounds} interleaved rounds × ${lookups} lookups per variant, ${inFlight} in flight, ${sessions} sessions.`);
process.exit(0);
