// The tenant-wide list costs the same at 2,000 and 20,000 sessions: on a
// Redis of this file's own, INFO commandstats counts every command (scripts'
// inner commands included) of one `GET /api/v1/session-storage?page=&limit=`.
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Session } from "../src/core/session.js";
import { startOwnRedis, type OwnRedis } from "./support/own-redis.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

let own: OwnRedis;
let t: TestApp;
let inspector: Redis;
const made = new Map<string, Session[]>();
beforeAll(async () => {
  own = await startOwnRedis();
  // No index sweep during the measurements (nothing expires here anyway).
  t = await startTestApp({ REDIS_URL: own.url, MAX_SESSIONS_PER_USER: "10000", INDEX_SWEEP_INTERVAL_MS: "3600000" });
  inspector = new Redis(own.url);
  // Tenant A: 2,000 sessions; tenant B: 20,000 (2,000 users × 10).
  for (const [tenant, count] of [[t.clientA.id, 2_000], [t.clientB.id, 20_000]] as const) {
    const sessions: Session[] = [];
    for (let from = 0; from < count; from += 500) {
      sessions.push(...(await Promise.all(Array.from({ length: Math.min(500, count - from) }, (_, i) =>
        t.app.core.create({ tenantId: tenant, userId: `wide-${(from + i) % 2000}` }).then((r) => r.session)))));
    }
    made.set(tenant, sessions.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
  }
}, 120_000);
afterAll(async () => {
  await t?.close();
  inspector?.disconnect();
  await own?.stop();
});

/** Commands Redis ran for one list call, and its answer. */
async function listCost(client: { headers: Record<string, string> }, page: number, limit: number) {
  await inspector.config("RESETSTAT");
  const started = performance.now();
  const res = await fetch(`${t.baseUrl}/api/v1/session-storage?page=${page}&limit=${limit}`, { headers: client.headers });
  const ms = performance.now() - started;
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { id: string }[]; pagination: { page: number; limit: number; total: number } };
  let commands = 0;
  for (const match of (await inspector.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    // (The service's health PING every few seconds is not the list's.)
    if (!["info", "config|resetstat", "ping"].includes(match[1]!)) commands += Number(match[2]);
  }
  return { commands, ms, body };
}

test("page=1&limit=10 takes the same number of Redis commands at 2,000 and 20,000 sessions, with the right total", async () => {
  const small = await listCost(t.clientA, 1, 10);
  const large = await listCost(t.clientB, 1, 10);
  console.log(`list page 1 (limit 10): 2,000 sessions: ${small.commands} commands, ${small.ms.toFixed(1)} ms; 20,000: ${large.commands} commands, ${large.ms.toFixed(1)} ms`);
  expect(small.body.pagination).toEqual({ page: 1, limit: 10, total: 2_000 });
  expect(large.body.pagination).toEqual({ page: 1, limit: 10, total: 20_000 });
  expect(small.body.data.map((s) => s.id)).toEqual(made.get(t.clientA.id)!.slice(0, 10).map((s) => s.id));
  expect(large.body.data.map((s) => s.id)).toEqual(made.get(t.clientB.id)!.slice(0, 10).map((s) => s.id));
  // Per bucket: expiry check, count, first entries; then one read per session.
  expect(large.commands).toBe(small.commands);
  expect(large.commands).toBeLessThanOrEqual(16 * 3 + 10);
});

test("a page deep into the list is found by rank, not by walking: bounded commands, the right sessions", async () => {
  const sessions = made.get(t.clientB.id)!;
  for (const page of [2, 999, 2_000]) {
    const { commands, ms, body } = await listCost(t.clientB, page, 10);
    console.log(`list page ${page} (limit 10) of 20,000: ${commands} commands, ${ms.toFixed(1)} ms`);
    expect(body.pagination.total).toBe(20_000);
    expect(body.data.map((s) => s.id)).toEqual(sessions.slice((page - 1) * 10, page * 10).map((s) => s.id));
    // A bisection over creation time: ≤ 64 rounds of one ZCOUNT per bucket, whatever the tenant's size.
    expect(commands).toBeLessThan(16 * 70);
  }
  const past = await listCost(t.clientB, 2_001, 10);
  expect(past.body.data).toEqual([]);
  expect(past.body.pagination.total).toBe(20_000);
});
