import { Cluster, type Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { duplicateRedisClient, waitUntilReady, type RedisClient } from "../src/store/redis-client.js";
import { connectServiceRedis } from "./support/shared-redis.js";

// The connection a key's commands are written to.
function connectionOf(client: RedisClient, key: string): Redis {
  if (!(client instanceof Cluster)) return client;
  // ioredis's slot table names each slot's nodes; its pool holds their connections.
  const { slots, connectionPool } = client as unknown as { slots: string[][]; connectionPool: { getInstanceByKey(node: string): Redis } };
  return connectionPool.getInstanceByKey(slots[slotOf(key)]![0]!);
}

// CRC16 (XMODEM) mod 16384, Redis Cluster's key slot (no hash tags used here).
function slotOf(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(key)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("commands of one event-loop turn share one socket write", () => {
  let client: RedisClient;
  const key = `batch-writes:${process.pid}`;

  beforeAll(async () => {
    client = await connectServiceRedis();
    // A Cluster opens a key's node connection on first use.
    await client.del(key);
  });
  afterAll(async () => {
    await client.del(key);
    client.disconnect();
  });

  it("holds the turn's commands in the socket until the check phase, then sends them all at once", async () => {
    const socket = connectionOf(client, key).stream;
    expect(socket.writableCorked).toBe(0);
    const replies = Array.from({ length: 100 }, (_, i) => client.rpush(key, String(i)));
    // Nothing written yet: every command is waiting in the corked socket.
    expect(socket.writableCorked).toBe(1);
    expect(socket.writableLength).toBeGreaterThan(100 * 10);
    await turn();
    expect(socket.writableCorked).toBe(0);
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await client.lrange(key, 0, -1)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
  });

  it("keeps the call order of plain commands and scripts sent in one turn", async () => {
    await client.del(key);
    const appendLua = "return redis.call('RPUSH', KEYS[1], ARGV[1])";
    const sent = [
      client.rpush(key, "a"),
      client.eval(appendLua, 1, key, "b"),
      client.rpush(key, "c"),
      client.eval(appendLua, 1, key, "d"),
    ];
    expect(await Promise.all(sent)).toEqual([1, 2, 3, 4]);
    expect(await client.lrange(key, 0, -1)).toEqual(["a", "b", "c", "d"]);
  });

  it("corks the new socket after a reconnect, and answers every command", async () => {
    const before = connectionOf(client, key);
    const beforeSocket = before.stream;
    const id = await before.client("ID");
    const killer = before.duplicate({ enableOfflineQueue: true });
    await killer.client("KILL", "ID", String(id));
    killer.disconnect();
    // ioredis reconnects on its own; a Cluster drops the node's connection and opens a new one when a command needs it.
    const reconnected = () => {
      const now = connectionOf(client, key) as Redis | undefined;
      return now?.status === "ready" && now.stream !== beforeSocket ? now : undefined;
    };
    for (let i = 0; i < 100 && !reconnected(); i++) {
      await client.exists(key).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
    const connection = reconnected();
    expect(connection).toBeDefined();
    const replies = [client.set(key, "x"), client.get(key)];
    expect(connection!.stream.writableCorked).toBe(1);
    expect(await Promise.all(replies)).toEqual(["OK", "x"]);
    expect(connection!.stream.writableCorked).toBe(0);
  });

  it("batches the background connections too", async () => {
    const copy = duplicateRedisClient(client, "batch-writes-test");
    try {
      expect(await waitUntilReady(copy, 5000)).toBe(true);
      await copy.exists(key);
      const reply = copy.exists(key);
      expect(connectionOf(copy, key).stream.writableCorked).toBe(1);
      await reply;
    } finally {
      copy.disconnect();
    }
  });
});
