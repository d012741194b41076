import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AuthStatusService } from "../../gen/sessionstorage/v1/auth_status_service_pb.js";
import { SessionStorageService } from "../../gen/sessionstorage/v1/session_storage_service_pb.js";
import type { TestClient } from "./test-app.js";

/** How one call ended: an HTTP status (REST) or a gRPC code name, and when. */
export interface CallResult {
  readonly kind: string;
  /** "200", "503", … for REST; "ok", "unavailable", "not_found", … for gRPC; "error: …" when no answer came. */
  readonly outcome: string;
  readonly ms: number;
  /** The session a successful create stored. */
  readonly createdId?: string;
}

/** MixedCalls makes the service's common calls over REST and gRPC, timing each. */
export interface MixedCalls {
  /** The `i`-th call of a fixed rotation of kinds: creates, token checks and reads, half REST, half gRPC. */
  call(i: number): Promise<CallResult>;
  restCreate(): Promise<CallResult>;
  grpcCreate(): Promise<CallResult>;
}

/** A session known to exist before the fault, used by the reading calls. */
export interface KnownSession {
  readonly id: string;
  readonly token: string;
}

/** createMixedCalls uses `grpcConnections` HTTP/2 connections, so streams do not queue behind the server's per-connection limit. */
export function createMixedCalls(baseUrl: string, client: TestClient, known: KnownSession, grpcConnections = 2): MixedCalls {
  const stores: Client<typeof SessionStorageService>[] = [];
  const auths: Client<typeof AuthStatusService>[] = [];
  for (let i = 0; i < grpcConnections; i++) {
    const transport = createGrpcTransport({ baseUrl });
    stores.push(createClient(SessionStorageService, transport));
    auths.push(createClient(AuthStatusService, transport));
  }
  const headers = { clientid: client.id, clientsecret: client.secret };

  const timed = async (kind: string, run: () => Promise<{ outcome: string; createdId?: string }>): Promise<CallResult> => {
    const started = performance.now();
    try {
      const r = await run();
      return { kind, ...r, ms: performance.now() - started };
    } catch (e) {
      const outcome = e instanceof ConnectError ? codeName(e.code) : `error: ${e instanceof Error ? e.message : String(e)}`;
      return { kind, outcome, ms: performance.now() - started };
    }
  };
  const rest = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${baseUrl}${path}`, init);
    const body = (await res.json().catch(() => undefined)) as { id?: string } | undefined;
    return { outcome: String(res.status), createdId: res.status === 200 && init.method === "POST" ? body?.id : undefined };
  };
  let n = 0;
  const userId = () => `fault-user-${n++ % 50}`;

  const restCreate = () =>
    timed("rest create", () =>
      rest("/api/v1/session-storage", {
        method: "POST",
        headers: { ...client.headers, "content-type": "application/json" },
        body: JSON.stringify({ user_id: userId() }),
      }));
  const grpcCreate = () =>
    timed("grpc create", async () => {
      const reply = await stores[n % stores.length]!.saveSession({ userId: userId() }, { headers });
      return { outcome: "ok", createdId: reply.session?.id };
    });
  const kinds: (() => Promise<CallResult>)[] = [
    restCreate,
    grpcCreate,
    () => timed("rest auth status", () => rest("/auth/status", { headers: { authorization: `Bearer ${known.token}` } })),
    () =>
      timed("grpc auth status", async () => {
        await auths[n++ % auths.length]!.getAuthStatus({}, { headers: { authorization: `Bearer ${known.token}` } });
        return { outcome: "ok" };
      }),
    () => timed("rest get", () => rest(`/api/v1/session-storage/${encodeURIComponent(known.id)}`, { headers: client.headers })),
    () =>
      timed("grpc get", async () => {
        await stores[n++ % stores.length]!.getStoredSession({ id: known.id }, { headers });
        return { outcome: "ok" };
      }),
  ];
  return { call: (i) => kinds[i % kinds.length]!(), restCreate, grpcCreate };
}

/** "not_found", "unavailable", …: a gRPC code as the REST error bodies name it. */
const codeName = (code: Code) => Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();

/** The median and the largest of `values`. */
export function medianAndMax(values: readonly number[]): { median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}
