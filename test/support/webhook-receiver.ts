import http from "node:http";
import type net from "node:net";
import { createConditionWaiters } from "./condition-waiters.js";

/** One POST a receiver got, as the wire carried it. */
export interface ReceivedHook {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Date.now() when its body had arrived. */
  readonly at: number;
  /** What the receiver answered: a status, or "hang" (no answer until released). */
  readonly answer: number | "hang";
}

/** How a receiver answers the nth request (1-based) it gets, given its webhook-id and body. */
export type HookAnswer = (n: number, webhookId: string, body: string) => number | "hang";

export interface WebhookReceiver {
  readonly url: string;
  /** Every request, in arrival order (including ones left hanging). */
  readonly received: ReceivedHook[];
  /** Requests answered 2xx: what the receiver accepted. */
  accepted(): ReceivedHook[];
  /** Requests held without an answer right now. */
  hanging(): number;
  /** Answers every hanging request 200, and from now on answers so. */
  release(): void;
  until(predicate: (r: WebhookReceiver) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** startWebhookReceiver is a real HTTP server on a free port that records every webhook POST. */
export async function startWebhookReceiver(answer: HookAnswer = () => 200): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const held = new Set<http.ServerResponse>();
  const waiters = createConditionWaiters();
  let released = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = String(req.headers["webhook-id"] ?? "");
      const body = Buffer.concat(chunks).toString("utf8");
      const status = released ? 200 : answer(received.length + 1, id, body);
      received.push({ headers: req.headers, body, at: Date.now(), answer: status });
      if (status === "hang") {
        held.add(res);
        res.once("close", () => held.delete(res));
      } else res.writeHead(status).end();
      waiters.notify();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hooks/sessions?source=test`,
    received,
    accepted: () => received.filter((r) => typeof r.answer === "number" && r.answer >= 200 && r.answer < 300),
    hanging: () => held.size,
    release() {
      released = true;
      for (const res of held) res.writeHead(200).end();
      held.clear();
    },
    until: (predicate, timeoutMs = 15_000) =>
      waiters.until(() => predicate(receiver), timeoutMs, "webhook receiver", () => `${received.length} requests`),
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
