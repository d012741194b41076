/**
 * npm run soak: creates short-lived sessions and validates them against the
 * service as production runs it, for SOAK_SECONDS (300), then waits for them
 * all to expire and prints Redis memory and key counts at the start, at the
 * peak and at the end — what is left behind by expired sessions.
 *
 *   SOAK_SECONDS (300), SOAK_RATE (creates per second, 200),
 *   SOAK_TTL_SECONDS (each session's fixed lifetime, 10)
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { killChildren, onEnd } from "./children.js";
import { startRedis } from "./redis-server.js";
import { usedMemory } from "./redis-stats.js";
import { ensureBuild, startService } from "./service.js";

const seconds = Number(process.env.SOAK_SECONDS ?? 300);
const rate = Number(process.env.SOAK_RATE ?? 200);
const ttlSeconds = Number(process.env.SOAK_TTL_SECONDS ?? 10);

async function main() {
  ensureBuild();
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-soak-"));
  onEnd(() => rmSync(dir, { recursive: true, force: true }));
  const redisUrl = await startRedis(dir);
  const service = await startService(redisUrl, path.join(dir, "data"));
  const redis = new Redis(redisUrl);
  const base = `http://127.0.0.1:${service.port}`;
  const headers = { ClientID: service.clientId, ClientSecret: service.clientSecret, "content-type": "application/json" };
  const snapshot = async (label: string) => {
    const row = { label, usedMemory: await usedMemory(redis), keys: await redis.dbsize() };
    console.log(JSON.stringify(row));
    return row;
  };

  const start = await snapshot("start");
  let created = 0;
  let validated = 0;
  let failures = 0;
  let peak = start;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const tick = Date.now();
    await Promise.all(Array.from({ length: Math.max(1, Math.round(rate / 10)) }, async (_, i) => {
      const res = await fetch(`${base}/api/v1/session-storage`, {
        method: "POST",
        headers,
        body: JSON.stringify({ user_id: `soak-${created % 5000}-${i}`, expires_at: new Date(Date.now() + ttlSeconds * 1000).toISOString(), user: { name: "Soak" } }),
      });
      if (res.status !== 200) return void failures++;
      created++;
      const { token } = (await res.json()) as { token: string };
      const status = await fetch(`${base}/auth/status`, { headers: { authorization: `Bearer ${token}` } });
      if (status.status === 200) validated++;
      else failures++;
      await status.arrayBuffer();
    }));
    if (created % 2000 < rate / 10) {
      const now = await snapshot(`after ${Math.round((Date.now() - (end - seconds * 1000)) / 1000)} s`);
      if (now.usedMemory > peak.usedMemory) peak = now;
    }
    await sleep(Math.max(0, 100 - (Date.now() - tick)));
  }
  console.log(JSON.stringify({ created, validated, failures }));
  // Every session expires within its lifetime; the sweeper passes every 30 s.
  await sleep((ttlSeconds + 45) * 1000);
  const last = await snapshot("end");
  console.log(
    `soak: ${seconds} s, ${created} sessions created (${ttlSeconds} s each), ${validated} validations, ${failures} failures; ` +
      `Redis used_memory ${start.usedMemory} B at the start, ${peak.usedMemory} B at the peak, ${last.usedMemory} B at the end ` +
      `(${last.usedMemory - start.usedMemory} B left); keys ${start.keys} → ${peak.keys} → ${last.keys}`,
  );
  redis.disconnect();
  killChildren();
}

main().catch((e: unknown) => {
  console.error(e);
  killChildren();
  process.exit(1);
});
