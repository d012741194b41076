import type { Service } from "./service.js";

export const sessionsPerUser = 10;
export const profile = { name: "Bench User", power: 100 };

/**
 * seedService stores sessions `from`..`to`-1 through the public REST API (the
 * store's layout is not the bench's business), 10 per user, 64 requests in
 * flight, and returns the minted tokens in order.
 */
export async function seedService(service: Service, from: number, to: number): Promise<string[]> {
  const url = `http://127.0.0.1:${service.port}/api/v1/session-storage`;
  const headers = { ClientID: service.clientId, ClientSecret: service.clientSecret, "content-type": "application/json" };
  const tokens: string[] = new Array(to - from);
  let next = from;
  const worker = async () => {
    for (let i = next++; i < to; i = next++) {
      const body = JSON.stringify({ user_id: `user-${Math.floor(i / sessionsPerUser)}`, user: profile });
      const res = await fetch(url, { method: "POST", headers, body });
      const reply = (await res.json()) as { token?: string };
      if (res.status !== 200 || !reply.token) throw new Error(`seeding: ${res.status} ${JSON.stringify(reply)}`);
      tokens[i - from] = reply.token;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return tokens;
}
