import { randomBytes } from "node:crypto";
import { afterAll, expect, test } from "vitest";
import { createSessionCore } from "../src/core/session-core.js";
import { createTokenLocator } from "../src/crypto/token-locator.js";
import { createKeyedHash } from "../src/crypto/keyed-hash.js";
import { createTokenCipher } from "../src/crypto/token-cipher.js";
import { createRedisSessionStore } from "../src/store/redis-session-store.js";
import { connectServiceRedis } from "./support/shared-redis.js";

// Rules of the core over the real Redis store, where no HTTP face is needed
// to show them.

// The service's own kind of client: its write batching and script runner are part of the store.
const redis = await connectServiceRedis();
afterAll(() => redis.disconnect());

const tokenEncryptionKeys = [{ id: "k1", key: randomBytes(32) }];
const cipher = createTokenCipher(tokenEncryptionKeys);
const tokenHash = createKeyedHash(randomBytes(32), "token-lookup", 16);
const coreWith = (maxLifetimeSeconds: number) =>
  createSessionCore({
    store: createRedisSessionStore(redis),
    cipher,
    tokenHash,
    tokenLocator: createTokenLocator(tokenEncryptionKeys),
    config: { idleTimeoutSeconds: 1, maxLifetimeSeconds, maxSessionsPerUser: 10, evictOldestAtLimit: false },
  });

test("lowering the absolute lifetime setting never hides sessions made under the longer one", async () => {
  const tenant = `lifetime-${randomBytes(4).toString("hex")}`;
  const before = coreWith(3600);
  const { session, token } = await before.create({ tenantId: tenant, userId: "long-lived", expiresAt: Date.now() + 3_000_000 });
  const after = coreWith(1);
  await new Promise((r) => setTimeout(r, 1_500));
  // Still alive by its own absolute end, so still listed, counted and cleared.
  expect((await after.authenticate(token, false))?.id).toBe(session.id);
  expect((await after.listUser(tenant, "long-lived")).map((s) => s.id)).toEqual([session.id]);
  expect((await after.listTenant(tenant, { limit: 10, countTotal: true })).total).toBe(1);
  expect(await after.clear(tenant)).toBe(1);
  expect(await after.authenticate(token, false)).toBeUndefined();
});

test("two sessions changed to the same new token at once: one gets it, the other is refused", async () => {
  const tenant = `rotate-${randomBytes(4).toString("hex")}`;
  const core = coreWith(3600);
  const a = await core.create({ tenantId: tenant, userId: "rotator-a" });
  const b = await core.create({ tenantId: tenant, userId: "rotator-b" });
  const shared = `shared-${randomBytes(24).toString("hex")}`;
  const results = await Promise.allSettled([
    core.update(tenant, a.session.id, { token: shared }),
    core.update(tenant, b.session.id, { token: shared }),
  ]);
  expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  const winner = (results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<{ id: string }>).value.id;
  expect((await core.authenticate(shared, false))?.id).toBe(winner);
  const loser = winner === a.session.id ? b.session.id : a.session.id;
  expect(core.revealToken(await core.get(tenant, loser))).not.toBe(shared);
});
