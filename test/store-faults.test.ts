// All or nothing under Redis stalls: creates (minted and caller tokens),
// token rotations and deletes run while the test's own redis-server is
// really frozen (SIGSTOP past the 2 s command timeout) or busy (DEBUG
// SLEEP 3). Afterwards every call answered with success is fully stored,
// every call answered with an error changed nothing, and a scan of every
// key finds no ghost session, no stale pointer and no orphaned index entry.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import { redisKeys } from "../src/store/redis-keys.js";
import { parseTokenPointer } from "../src/store/token-pointer-value.js";
import { startAppOnOwnRedis, type AppOnOwnRedis } from "./support/app-on-own-redis.js";
import type { OwnRedis } from "./support/own-redis.js";
import type { TestApp } from "./support/test-app.js";

let setup: AppOnOwnRedis | undefined;
let own: OwnRedis;
let t: TestApp;
let inspector: Redis;
beforeAll(async () => {
  setup = await startAppOnOwnRedis({ MAX_SESSIONS_PER_USER: "1000", INDEX_SWEEP_INTERVAL_MS: "500", LOG_LEVEL: "warn" }, ["--enable-debug-command", "local"]);
  ({ own, t, inspector } = setup);
});
afterAll(async () => setup?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const callerToken = () => `own-${randomBytes(24).toString("hex")}`;

interface Outcome {
  readonly kind: "create" | "rotate" | "delete";
  readonly ok: boolean;
  readonly userId: string;
  readonly id?: string;
  /** create: its token; rotate: the new token; delete: the session's token. */
  readonly token: string;
  /** rotate: the token before. */
  readonly before?: string;
}

/**
 * Runs creates, rotations and deletes in waves for `ms` while `fault` runs,
 * and returns every call's outcome.
 */
async function storm(run: string, fault: () => Promise<void>, ms = 4_000): Promise<Outcome[]> {
  const core = t.app.core;
  const tenant = t.clientA.id;
  const waves = Math.floor(ms / 40);
  // Sessions to rotate (caller tokens) and to delete (both kinds), made first.
  const toRotate = await Promise.all(Array.from({ length: waves }, async (_, i) => {
    const token = callerToken();
    const made = await core.create({ tenantId: tenant, userId: `${run}-rot-${i}`, token });
    return { id: made.session.id, userId: made.session.userId, token };
  }));
  const toDelete = await Promise.all(Array.from({ length: waves }, async (_, i) => {
    const made = await core.create({ tenantId: tenant, userId: `${run}-del-${i}`, token: i % 2 ? callerToken() : undefined });
    return { id: made.session.id, userId: made.session.userId, token: made.token };
  }));
  const calls: Promise<Outcome>[] = [];
  const faulted = sleep(400).then(fault);
  for (let w = 0; w < waves; w++) {
    for (let c = 0; c < 4; c++) {
      const userId = `${run}-new-${w}-${c}`;
      const token = c % 2 ? callerToken() : undefined;
      calls.push(core.create({ tenantId: tenant, userId, token }).then(
        (r) => ({ kind: "create", ok: true, userId, id: r.session.id, token: r.token }),
        () => ({ kind: "create", ok: false, userId, token: token ?? "" }),
      ));
    }
    const r = toRotate[w]!;
    const next = callerToken();
    calls.push(core.update(tenant, r.id, { token: next }).then(
      () => ({ kind: "rotate", ok: true, userId: r.userId, id: r.id, token: next, before: r.token }),
      () => ({ kind: "rotate", ok: false, userId: r.userId, id: r.id, token: next, before: r.token }),
    ));
    const d = toDelete[w]!;
    calls.push(core.delete(tenant, d.id).then(
      () => ({ kind: "delete", ok: true, userId: d.userId, id: d.id, token: d.token }),
      () => ({ kind: "delete", ok: false, userId: d.userId, id: d.id, token: d.token }),
    ));
    await sleep(40);
  }
  const outcomes = await Promise.all(calls);
  await faulted;
  return outcomes;
}

async function allKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await inspector.scan(cursor, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

/** Every inconsistency a scan of every key finds; empty when none. */
async function scanProblems(): Promise<string[]> {
  const problems: string[] = [];
  const keys = await allKeys();
  const tenant = t.clientA.id;
  const sessions = new Map<string, Record<string, string>>();
  for (const key of keys) {
    const place = redisKeys.parseSession(key);
    if (place) sessions.set(key, await inspector.hgetall(key));
  }
  for (const [key, h] of sessions) {
    const place = redisKeys.parseSession(key)!;
    const id = `${place.userId}.${place.suffix}`;
    if ((await inspector.zscore(redisKeys.userIndex(place.tenantId, place.userId), place.suffix)) === null) problems.push(`session not in its user index: ${id}`);
    const inBucket = (await inspector.zscore(redisKeys.tenantBucketOf(place.tenantId, place.userId), id)) !== null;
    if (h.st === "active" && !inBucket) problems.push(`active session not in its tenant bucket: ${id}`);
    if (h.tp === "1") {
      const value = await inspector.get(redisKeys.tokenPointer(h.th!));
      if (value === null || parseTokenPointer(value).key !== key) problems.push(`caller token without its pointer: ${id}`);
    }
  }
  for (const key of keys) {
    if (key.startsWith("s2:t:")) {
      const value = (await inspector.get(key)) ?? "";
      const h = sessions.get(parseTokenPointer(value).key);
      if (!h || `s2:t:${h.th}` !== key) problems.push(`stale pointer ${key} -> ${value}`);
    } else if (/^s2:\{[^}]+\}:i$/.test(key)) {
      const prefix = key.slice(0, -1) + "s:";
      for (const suffix of await inspector.zrange(key, "0", "-1")) if (!sessions.has(prefix + suffix)) problems.push(`orphaned user index entry ${key} ${suffix}`);
    } else if (/^s2:\{[^}]+\/\d+\}:e$/.test(key)) {
      // A bucket's event stream: what happened, kept for the retention (not session state).
      if ((await inspector.type(key)) !== "stream") problems.push(`event stream of the wrong type ${key}`);
    } else if (/^s2:\{[^}]+\/\d+\}:[xn]$/.test(key)) {
      for (const id of await inspector.zrange(key, "0", "-1")) {
        const at = id.lastIndexOf(".", id.lastIndexOf(".") - 1);
        const sessionKey = redisKeys.session(tenant, id.slice(0, at), id.slice(at + 1));
        const h = sessions.get(sessionKey);
        if (!h) problems.push(`orphaned tenant index entry ${key} ${id}`);
        else if (key.endsWith(":n") === (h.st === "active")) problems.push(`entry in the wrong bucket ${key} ${id}`);
      }
    } else if (!redisKeys.parseSession(key) && !key.startsWith("s2:sweep:")) {
      problems.push(`unexpected key ${key}`);
    }
  }
  return problems;
}

/** What the answers promised, checked against what is stored. */
async function broken(outcomes: readonly Outcome[]): Promise<string[]> {
  const core = t.app.core;
  const tenant = t.clientA.id;
  const wrong: string[] = [];
  const works = async (token: string) => token !== "" && (await core.authenticate(token, false)) !== undefined;
  const check = async (o: Outcome) => {
    const listed = (await core.listUser(tenant, o.userId)).map((s) => s.id);
    if (o.kind === "create") {
      if (o.ok && (!listed.includes(o.id!) || !(await works(o.token)))) wrong.push(`created but not stored: ${o.userId}`);
      if (!o.ok && (listed.length > 0 || (await works(o.token)))) wrong.push(`ghost of a failed create: ${o.userId}`);
    } else if (o.kind === "rotate") {
      const [now, before] = [await works(o.token), await works(o.before!)];
      if (o.ok && (!now || before)) wrong.push(`rotation answered ok not stored: ${o.id}`);
      if (!o.ok && (now || !before)) wrong.push(`rotation answered failed but stored: ${o.id}`);
    } else {
      if (o.ok && listed.includes(o.id!)) wrong.push(`deleted session still there: ${o.id}`);
      if (!o.ok && !listed.includes(o.id!)) wrong.push(`delete answered failed but done: ${o.id}`);
    }
  };
  for (let from = 0; from < outcomes.length; from += 50) await Promise.all(outcomes.slice(from, from + 50).map(check));
  return wrong;
}

async function settled(outcomes: readonly Outcome[]) {
  // Repairs run once the failed calls' deadlines have passed; give them a few seconds.
  let problems: string[] = [];
  for (let i = 0; i < 40; i++) {
    problems = await scanProblems();
    if (problems.length === 0) break;
    await sleep(250);
  }
  const failed = outcomes.filter((o) => !o.ok);
  const wrong = await broken(outcomes);
  if (problems.length > 0) console.log(problems.slice(0, 20));
  console.log(`${outcomes.length} calls, ${failed.length} answered an error (${["create", "rotate", "delete"].map((k) => `${k}: ${failed.filter((o) => o.kind === k).length}`).join(", ")}); ` +
    `broken promises: ${wrong.length}; scan problems: ${problems.length}`);
  return { failed, wrong, problems: [...problems, ...(await scanProblems())] };
}

test("Redis frozen (SIGSTOP 2.6 s, past the 2 s command timeout) while creates, rotations and deletes run: nothing half-done", async () => {
  const outcomes = await storm("stop", async () => {
    own.signal("SIGSTOP");
    await sleep(2_600);
    own.signal("SIGCONT");
  });
  const { failed, wrong, problems } = await settled(outcomes);
  // The stall really failed calls of every kind.
  for (const kind of ["create", "rotate", "delete"]) expect(failed.some((o) => o.kind === kind)).toBe(true);
  expect(wrong).toEqual([]);
  expect(problems).toEqual([]);
}, 30_000);

test("Redis busy (DEBUG SLEEP 3) while creates, rotations and deletes run: nothing half-done", async () => {
  const sleeper = new Redis(own.url);
  try {
    const outcomes = await storm("sleep", async () => {
      await sleeper.call("DEBUG", "SLEEP", "3");
    });
    const { failed, wrong, problems } = await settled(outcomes);
    expect(failed.length).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
    expect(problems).toEqual([]);
  } finally {
    sleeper.disconnect();
  }
}, 30_000);
