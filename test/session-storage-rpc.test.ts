import { randomBytes } from "node:crypto";
/**
 * The Secure Session Storage API (000) over every RPC face of the one port:
 * the Connect protocol over HTTP/1.1, the gRPC protocol over HTTP/2 (both
 * with connect-node's client), and a bare @grpc/grpc-js client. The same
 * suite runs through each, against the real service and a real Redis.
 */
import http2 from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { ConnectError, createClient, type CallOptions, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { startTestApp, type TestApp, type TestClient } from "./support/test-app.js";

type Svc = typeof SessionStorageService;
type Name = keyof Svc["method"];
type Req<M extends Name> = MessageInitShape<Svc["method"][M]["input"]>;
type Res<M extends Name> = MessageShape<Svc["method"][M]["output"]>;

interface Reply<M extends Name> {
  readonly message: Res<M>;
  /** Response headers (gRPC initial metadata). */
  readonly headers: Headers;
  /** Response trailers (gRPC trailing metadata). */
  readonly trailers: Headers;
}

/** A failed call, the same shape whichever client made it; code is the gRPC status code. */
class RpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    /** Everything the server sent with the error: headers and trailers together. */
    readonly metadata: Headers,
  ) {
    super(`rpc error ${code}: ${details}`);
  }
}

interface Rpc {
  call<M extends Name>(method: M, req: Req<M>, headers?: Record<string, string>): Promise<Reply<M>>;
  close(): void;
}

// ---------------------------------------------------------------------------
// Connect-es clients (Connect protocol over HTTP/1.1, gRPC over HTTP/2)

function connectRpc(transport: Transport): Rpc {
  const client = createClient(SessionStorageService, transport);
  return {
    async call(method, req, headers = {}) {
      let responseHeaders = new Headers();
      let trailers = new Headers();
      const fn = client[method] as unknown as (req: unknown, options: CallOptions) => Promise<unknown>;
      try {
        const message = await fn(req, {
          headers,
          onHeader: (h) => (responseHeaders = h),
          onTrailer: (t) => (trailers = t),
        });
        return { message, headers: responseHeaders, trailers } as Reply<typeof method>;
      } catch (e) {
        if (e instanceof ConnectError) throw new RpcError(e.code, e.rawMessage, e.metadata);
        throw e;
      }
    },
    close() {},
  };
}

// ---------------------------------------------------------------------------
// A bare @grpc/grpc-js client built from the generated descriptors

function grpcJsRpc(port: number): Rpc {
  const definition: Record<string, grpc.MethodDefinition<MessageInitShape<DescMessage>, MessageShape<DescMessage>>> = {};
  for (const m of SessionStorageService.methods) {
    const input: DescMessage = m.input;
    const output: DescMessage = m.output;
    definition[m.localName] = {
      path: `/${SessionStorageService.typeName}/${m.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: MessageInitShape<DescMessage>) => Buffer.from(toBinary(input, create(input, v))),
      requestDeserialize: (b: Buffer) => fromBinary(input, b) as MessageInitShape<DescMessage>,
      responseSerialize: (v: MessageShape<DescMessage>) => Buffer.from(toBinary(output, v)),
      responseDeserialize: (b: Buffer) => fromBinary(output, b),
      originalName: m.name,
    };
  }
  const Ctor = grpc.makeGenericClientConstructor(definition, SessionStorageService.name);
  const client = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    call(method, req, headers = {}) {
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(headers)) md.set(k.toLowerCase(), v);
      return new Promise((resolve, reject) => {
        let responseHeaders = new Headers();
        let result: { err: grpc.ServiceError | null; res: unknown } | undefined;
        const fn = (client as unknown as Record<string, Function>)[method]!.bind(client) as (
          req: unknown,
          md: grpc.Metadata,
          cb: (err: grpc.ServiceError | null, res: unknown) => void,
        ) => grpc.ClientUnaryCall;
        const call = fn(req, md, (err, res) => (result = { err, res }));
        call.on("metadata", (m: grpc.Metadata) => (responseHeaders = metadataToHeaders(m)));
        // grpc-js emits "status" right after the callback: settle here, with the trailers.
        call.on("status", (status: grpc.StatusObject) => {
          const trailers = metadataToHeaders(status.metadata);
          if (!result) return reject(new Error("status without callback"));
          if (result.err) {
            const all = new Headers(responseHeaders);
            for (const [k, v] of trailers) all.set(k, v);
            return reject(new RpcError(result.err.code, result.err.details, all));
          }
          resolve({ message: result.res, headers: responseHeaders, trailers } as Reply<typeof method>);
        });
      });
    },
    close() {
      client.close();
    },
  };
}

function metadataToHeaders(md: grpc.Metadata): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(md.getMap())) if (typeof v === "string") h.set(k, v);
  return h;
}

// ---------------------------------------------------------------------------

const creds = (c: TestClient) => ({ clientid: c.id, clientsecret: c.secret });

async function expectRpcError(p: Promise<unknown>, code: number, message?: RegExp): Promise<RpcError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, "the call should fail").toBeInstanceOf(RpcError);
  const err = caught as RpcError;
  expect({ code: err.code, details: err.details }).toMatchObject({ code, ...(message ? { details: expect.stringMatching(message) } : {}) });
  return err;
}

function uniqueToken(label: string): string {
  return `tok-${label}-${randomBytes(16).toString("hex")}`;
}

type Kind = "connect-http1.1" | "grpc-http2 (connect-node)" | "grpc-js";
const kinds: Kind[] = ["connect-http1.1", "grpc-http2 (connect-node)", "grpc-js"];

describe.each(kinds)("SessionStorageService via %s", (kind) => {
  let t: TestApp;
  let rpc: Rpc;
  let a: Record<string, string>;
  let b: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    a = creds(t.clientA);
    b = creds(t.clientB);
    rpc =
      kind === "connect-http1.1"
        ? connectRpc(createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }))
        : kind === "grpc-js"
          ? grpcJsRpc(t.port)
          : // The gRPC transport is HTTP/2 only (its options have no httpVersion).
            connectRpc(createGrpcTransport({ baseUrl: t.baseUrl }));
  });
  afterAll(async () => {
    rpc?.close();
    await t?.close();
  });

  it("SaveSession mints a token, shows it once, and GetStoredSession returns it in full", async () => {
    const before = Date.now();
    const saved = await rpc.call("saveSession", { userId: "usr_mint" }, a);
    const s = saved.message.session!;
    expect(s.userId).toBe("usr_mint");
    expect(s.id).toMatch(/^usr_mint\.[0-9a-f]{8}\.[0-9a-f]{8}$/);
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{64,}$/);
    expect(s.tokenPreview).toBe(`${s.token!.slice(0, 8)}...${s.token!.slice(-4)}`);
    expect(s.isValid).toBe(true);
    expect(s.status).toBe("active");
    // Default idle timeout (7200 s) from creation.
    const expires = timestampMs(s.expiresAt!);
    expect(expires).toBeGreaterThanOrEqual(before + 7200_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 7200_000 + 1000);
    expect(timestampMs(s.createdAt!)).toBeGreaterThanOrEqual(before - 1000);

    const got = await rpc.call("getStoredSession", { id: s.id }, a);
    expect(got.message.session).toMatchObject({ id: s.id, userId: "usr_mint", token: s.token, tokenPreview: s.tokenPreview, isValid: true });
  });

  it("SaveSession stores the caller's own token without echoing it; GetStoredSession returns it", async () => {
    const token = uniqueToken("own");
    const expiresAt = timestampFromMs(Date.now() + 3600_000);
    const saved = await rpc.call("saveSession", { userId: "usr_own", token, expiresAt }, a);
    const s = saved.message.session!;
    expect(s.token).toBeUndefined();
    expect(s.tokenPreview).toBe(`${token.slice(0, 8)}...${token.slice(-4)}`);
    expect(Number(s.expiresAt!.seconds)).toBe(Number(expiresAt.seconds));
    const got = await rpc.call("getStoredSession", { id: s.id }, a);
    expect(got.message.session?.token).toBe(token);
    expect(Number(got.message.session?.expiresAt?.seconds)).toBe(Number(expiresAt.seconds));
  });

  it("ListStoredSessions pages a user's sessions oldest first, with the total", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await rpc.call("saveSession", { userId: "usr_list" }, a)).message.session!.id);
      await sleep(3);
    }
    const first = await rpc.call("listStoredSessions", { userId: "usr_list", page: 1, limit: 2 }, a);
    expect(first.message.data.map((s) => s.id)).toEqual(ids.slice(0, 2));
    expect(first.message.pagination).toMatchObject({ page: 1, limit: 2, total: 3 });
    // Lists never show full tokens.
    for (const s of first.message.data) expect(s.token).toBeUndefined();
    const second = await rpc.call("listStoredSessions", { userId: "usr_list", page: 2, limit: 2 }, a);
    expect(second.message.data.map((s) => s.id)).toEqual(ids.slice(2));
    expect(second.message.pagination).toMatchObject({ page: 2, limit: 2, total: 3 });
    const defaults = await rpc.call("listStoredSessions", { userId: "usr_list" }, a);
    expect(defaults.message.pagination).toMatchObject({ page: 1, limit: 20, total: 3 });
  });

  it("ListStoredSessions rejects a page size above the maximum with INVALID_ARGUMENT naming limit", async () => {
    await expectRpcError(rpc.call("listStoredSessions", { limit: 101 }, a), grpc.status.INVALID_ARGUMENT, /limit/);
  });

  it("GetCurrentSession returns the user's most recently saved session; with a Bearer token, the bearer's own", async () => {
    const first = (await rpc.call("saveSession", { userId: "usr_cur" }, a)).message.session!;
    await sleep(3);
    const second = (await rpc.call("saveSession", { userId: "usr_cur" }, a)).message.session!;
    const cur = await rpc.call("getCurrentSession", { userId: "usr_cur" }, a);
    expect(cur.message).toMatchObject({ id: second.id, userId: "usr_cur", token: second.token, isValid: true });

    const byBearer = await rpc.call("getCurrentSession", {}, { authorization: `Bearer ${first.token}` });
    expect(byBearer.message).toMatchObject({ id: first.id, token: first.token, isValid: true });

    // The current one gone, the newest remaining live session takes over.
    await rpc.call("deleteStoredSession", { id: second.id }, a);
    const after = await rpc.call("getCurrentSession", { userId: "usr_cur" }, a);
    expect(after.message.id).toBe(first.id);
  });

  it("GetCurrentSession: INVALID_ARGUMENT naming user_id for an API client without user_id; NOT_FOUND for a user without sessions", async () => {
    await expectRpcError(rpc.call("getCurrentSession", {}, a), grpc.status.INVALID_ARGUMENT, /user_id/);
    await expectRpcError(rpc.call("getCurrentSession", { userId: "usr_nobody" }, a), grpc.status.NOT_FOUND);
  });

  it("GetSessionValidity: valid with seconds remaining; is_valid false and 0 without a live session", async () => {
    const s = (await rpc.call("saveSession", { userId: "usr_valid", expiresAt: timestampFromMs(Date.now() + 600_000) }, a)).message.session!;
    const v = await rpc.call("getSessionValidity", { userId: "usr_valid" }, a);
    expect(v.message.isValid).toBe(true);
    expect(v.message.secondsRemaining).toBeGreaterThan(590);
    expect(v.message.secondsRemaining).toBeLessThanOrEqual(600);
    expect(Number(v.message.expiresAt?.seconds)).toBe(Number(s.expiresAt!.seconds));

    const byBearer = await rpc.call("getSessionValidity", {}, { authorization: `Bearer ${s.token}` });
    expect(byBearer.message.isValid).toBe(true);

    const none = await rpc.call("getSessionValidity", { userId: "usr_never_saved" }, a);
    expect(none.message.isValid).toBe(false);
    expect(none.message.secondsRemaining).toBe(0);
    expect(none.message.expiresAt).toBeUndefined();
    await expectRpcError(rpc.call("getSessionValidity", {}, a), grpc.status.INVALID_ARGUMENT, /user_id/);
  });

  it("UpdateStoredSession replaces the token and expiry; the old token stops working, the new one works", async () => {
    const s = (await rpc.call("saveSession", { userId: "usr_upd" }, a)).message.session!;
    const newToken = uniqueToken("rotated");
    const newExpiry = timestampFromMs(Date.now() + 1800_000);
    const upd = await rpc.call("updateStoredSession", { id: s.id, token: newToken, expiresAt: newExpiry }, a);
    expect(upd.message.session).toMatchObject({
      id: s.id,
      userId: "usr_upd",
      tokenPreview: `${newToken.slice(0, 8)}...${newToken.slice(-4)}`,
      isValid: true,
    });
    expect(upd.message.session?.token).toBeUndefined();
    expect(Number(upd.message.session?.expiresAt?.seconds)).toBe(Number(newExpiry.seconds));

    const got = await rpc.call("getStoredSession", { id: s.id }, a);
    expect(got.message.session?.token).toBe(newToken);
    expect((await rpc.call("getSessionValidity", {}, { authorization: `Bearer ${s.token}` })).message.isValid).toBe(false);
    expect((await rpc.call("getSessionValidity", {}, { authorization: `Bearer ${newToken}` })).message.isValid).toBe(true);
  });

  it("UpdateStoredSession rejects an empty change and a past expiry with INVALID_ARGUMENT", async () => {
    const s = (await rpc.call("saveSession", { userId: "usr_upd_bad" }, a)).message.session!;
    await expectRpcError(rpc.call("updateStoredSession", { id: s.id }, a), grpc.status.INVALID_ARGUMENT, /token|expires_at/);
    await expectRpcError(
      rpc.call("updateStoredSession", { id: s.id, expiresAt: timestampFromMs(Date.now() - 60_000) }, a),
      grpc.status.INVALID_ARGUMENT,
      /expires_at/,
    );
  });

  it("DeleteStoredSession deletes one session; it is NOT_FOUND afterwards and its token is dead", async () => {
    const s = (await rpc.call("saveSession", { userId: "usr_del" }, a)).message.session!;
    const del = await rpc.call("deleteStoredSession", { id: s.id }, a);
    expect(del.message).toMatchObject({ deleted: true, id: s.id });
    await expectRpcError(rpc.call("getStoredSession", { id: s.id }, a), grpc.status.NOT_FOUND);
    await expectRpcError(rpc.call("deleteStoredSession", { id: s.id }, a), grpc.status.NOT_FOUND);
    expect((await rpc.call("getSessionValidity", {}, { authorization: `Bearer ${s.token}` })).message.isValid).toBe(false);
  });

  it("ClearSessions with user_id clears only that user's sessions", async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 3; i++) tokens.push((await rpc.call("saveSession", { userId: "usr_clear" }, a)).message.session!.token!);
    const other = (await rpc.call("saveSession", { userId: "usr_clear_other" }, a)).message.session!;
    const cleared = await rpc.call("clearSessions", { userId: "usr_clear" }, a);
    expect(cleared.message).toMatchObject({ cleared: true, deletedCount: 3 });
    expect(cleared.message.message).toBe("All session tokens cleared from secure storage");
    const list = await rpc.call("listStoredSessions", { userId: "usr_clear" }, a);
    expect(list.message.pagination?.total).toBe(0);
    expect(list.message.data).toEqual([]);
    for (const token of tokens) {
      expect((await rpc.call("getSessionValidity", {}, { authorization: `Bearer ${token}` })).message.isValid).toBe(false);
    }
    expect((await rpc.call("getStoredSession", { id: other.id }, a)).message.session?.token).toBe(other.token);
  });

  it("ClearSessions without user_id clears the calling tenant's sessions, never another tenant's", async () => {
    const bSessions = [
      (await rpc.call("saveSession", { userId: "usr_b1" }, b)).message.session!,
      (await rpc.call("saveSession", { userId: "usr_b2" }, b)).message.session!,
    ];
    const aSession = (await rpc.call("saveSession", { userId: "usr_b1" }, a)).message.session!;
    const listed = await rpc.call("listStoredSessions", {}, b);
    expect(listed.message.pagination?.total).toBe(2);
    expect(listed.message.data.map((s) => s.id).sort()).toEqual(bSessions.map((s) => s.id).sort());

    const cleared = await rpc.call("clearSessions", {}, b);
    expect(cleared.message).toMatchObject({ cleared: true, deletedCount: 2 });
    expect((await rpc.call("listStoredSessions", {}, b)).message.pagination?.total).toBe(0);
    for (const s of bSessions) await expectRpcError(rpc.call("getStoredSession", { id: s.id }, b), grpc.status.NOT_FOUND);
    // Tenant A's session of a user with the same id is untouched.
    expect((await rpc.call("getStoredSession", { id: aSession.id }, a)).message.session?.token).toBe(aSession.token);
  });

  describe("errors", () => {
    it("UNAUTHENTICATED without credentials", async () => {
      await expectRpcError(rpc.call("saveSession", { userId: "usr_x" }), grpc.status.UNAUTHENTICATED, /ClientID/);
      await expectRpcError(rpc.call("listStoredSessions", {}), grpc.status.UNAUTHENTICATED);
      await expectRpcError(rpc.call("getStoredSession", { id: "usr_x.00000000.00000000" }), grpc.status.UNAUTHENTICATED);
      await expectRpcError(rpc.call("clearSessions", {}), grpc.status.UNAUTHENTICATED);
    });

    it("UNAUTHENTICATED with a wrong secret, an unknown client, or half the credentials", async () => {
      await expectRpcError(
        rpc.call("saveSession", { userId: "usr_x" }, { clientid: t.clientA.id, clientsecret: t.clientB.secret }),
        grpc.status.UNAUTHENTICATED,
      );
      await expectRpcError(
        rpc.call("listStoredSessions", {}, { clientid: "no-such-client", clientsecret: t.clientA.secret }),
        grpc.status.UNAUTHENTICATED,
      );
      await expectRpcError(rpc.call("listStoredSessions", {}, { clientid: t.clientA.id }), grpc.status.UNAUTHENTICATED);
      // A wrong secret is refused even when a valid Bearer token comes with it.
      const s = (await rpc.call("saveSession", { userId: "usr_auth" }, a)).message.session!;
      await expectRpcError(
        rpc.call("getCurrentSession", {}, { clientid: t.clientA.id, clientsecret: "wrong-secret-wrong-secret", authorization: `Bearer ${s.token}` }),
        grpc.status.UNAUTHENTICATED,
      );
      // Nothing was stored by the refused saves.
      expect((await rpc.call("listStoredSessions", { userId: "usr_x" }, a)).message.pagination?.total).toBe(0);
    });

    it("UNAUTHENTICATED for a Bearer token on GetStoredSession when the token is unknown", async () => {
      await expectRpcError(
        rpc.call("getStoredSession", { id: "usr_x.00000000.00000000" }, { authorization: `Bearer ${uniqueToken("unknown")}` }),
        grpc.status.UNAUTHENTICATED,
      );
    });

    it("NOT_FOUND for an unknown id, well-formed or not", async () => {
      await expectRpcError(rpc.call("getStoredSession", { id: "usr_x.0badc0de.0badc0de" }, a), grpc.status.NOT_FOUND, /not found/);
      await expectRpcError(rpc.call("getStoredSession", { id: "store_001" }, a), grpc.status.NOT_FOUND);
      await expectRpcError(rpc.call("deleteStoredSession", { id: "usr_x.0badc0de.0badc0de" }, a), grpc.status.NOT_FOUND);
      await expectRpcError(
        rpc.call("updateStoredSession", { id: "usr_x.0badc0de.0badc0de", token: uniqueToken("x") }, a),
        grpc.status.NOT_FOUND,
      );
    });

    it("NOT_FOUND (not PERMISSION_DENIED) for another tenant's session, which stays untouched", async () => {
      const s = (await rpc.call("saveSession", { userId: "usr_tenancy" }, a)).message.session!;
      await expectRpcError(rpc.call("getStoredSession", { id: s.id }, b), grpc.status.NOT_FOUND);
      await expectRpcError(rpc.call("updateStoredSession", { id: s.id, token: uniqueToken("hijack") }, b), grpc.status.NOT_FOUND);
      await expectRpcError(rpc.call("deleteStoredSession", { id: s.id }, b), grpc.status.NOT_FOUND);
      expect((await rpc.call("listStoredSessions", { userId: "usr_tenancy" }, b)).message.pagination?.total).toBe(0);
      await expectRpcError(rpc.call("getCurrentSession", { userId: "usr_tenancy" }, b), grpc.status.NOT_FOUND);
      expect((await rpc.call("clearSessions", { userId: "usr_tenancy" }, b)).message.deletedCount).toBe(0);
      // Still there, unchanged, for its owner.
      const got = await rpc.call("getStoredSession", { id: s.id }, a);
      expect(got.message.session?.token).toBe(s.token);
    });

    it("INVALID_ARGUMENT naming user_id when SaveSession has no user_id or a bad one", async () => {
      await expectRpcError(rpc.call("saveSession", {}, a), grpc.status.INVALID_ARGUMENT, /user_id/);
      await expectRpcError(rpc.call("saveSession", { userId: "has space" }, a), grpc.status.INVALID_ARGUMENT, /user_id/);
      await expectRpcError(rpc.call("saveSession", { userId: "{brace}" }, a), grpc.status.INVALID_ARGUMENT, /user_id/);
    });

    it("INVALID_ARGUMENT for a too-short token and a past expiry; ALREADY_EXISTS for a token already stored", async () => {
      await expectRpcError(rpc.call("saveSession", { userId: "usr_bad", token: "short" }, a), grpc.status.INVALID_ARGUMENT, /token/);
      await expectRpcError(
        rpc.call("saveSession", { userId: "usr_bad", expiresAt: timestampFromMs(Date.now() - 1000) }, a),
        grpc.status.INVALID_ARGUMENT,
        /expires_at/,
      );
      const token = uniqueToken("dup");
      await rpc.call("saveSession", { userId: "usr_dup", token }, a);
      await expectRpcError(rpc.call("saveSession", { userId: "usr_dup2", token }, a), grpc.status.ALREADY_EXISTS);
    });
  });

  describe("x-request-id", () => {
    it("is returned on success, and an incoming one is kept", async () => {
      const fresh = await rpc.call("listStoredSessions", {}, a);
      const id = fresh.headers.get("x-request-id") ?? fresh.trailers.get("x-request-id");
      expect(id).toMatch(/^[A-Za-z0-9._:-]{8,}$/);
      const kept = await rpc.call("listStoredSessions", {}, { ...a, "x-request-id": "req-rpc-123" });
      expect(kept.headers.get("x-request-id") ?? kept.trailers.get("x-request-id")).toBe("req-rpc-123");
      // Each call gets its own id.
      const other = await rpc.call("listStoredSessions", {}, a);
      expect(other.headers.get("x-request-id") ?? other.trailers.get("x-request-id")).not.toBe(id);
    });

    it("is returned with errors too", async () => {
      const err = await expectRpcError(
        rpc.call("getStoredSession", { id: "usr_x.0badc0de.0badc0de" }, { ...a, "x-request-id": "req-rpc-err-1" }),
        grpc.status.NOT_FOUND,
      );
      expect(err.metadata.get("x-request-id")).toBe("req-rpc-err-1");
      const unauth = await expectRpcError(rpc.call("listStoredSessions", {}), grpc.status.UNAUTHENTICATED);
      expect(unauth.metadata.get("x-request-id")).toMatch(/^[A-Za-z0-9._:-]{8,}$/);
    });
  });

  if (kind === "grpc-js") {
    it("grpc-js sees x-request-id as initial metadata on success", async () => {
      const reply = await rpc.call("getSessionValidity", { userId: "usr_none" }, { ...a, "x-request-id": "req-initial-md" });
      expect(reply.headers.get("x-request-id")).toBe("req-initial-md");
    });
  }

  it("a session saved over RPC reads the same over REST", async () => {
    const s = (await rpc.call("saveSession", { userId: "usr_cross" }, a)).message.session!;
    const res = await fetch(`${t.baseUrl}/api/v1/session-storage/${s.id}`, { headers: t.clientA.headers });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: s.id, user_id: "usr_cross", token: s.token, is_valid: true, token_preview: s.tokenPreview });
    expect(Date.parse(body.expires_at as string)).toBe(timestampDate(s.expiresAt!).getTime());
  });
});

// ---------------------------------------------------------------------------
// REST over HTTP/2 cleartext on the same port

describe("REST over h2c on the same port", () => {
  let t: TestApp;
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    t = await startTestApp();
    session = http2.connect(t.baseUrl);
  });
  afterAll(async () => {
    session?.close();
    await t?.close();
  });

  function h2Request(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; headers: http2.IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      const req = session.request({ ":method": method, ":path": path, ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) });
      let responseHeaders: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      req.on("response", (h) => (responseHeaders = h));
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => resolve({ status: Number(responseHeaders[":status"]), headers: responseHeaders, text: Buffer.concat(chunks).toString() }));
      req.on("error", reject);
      req.end(body);
    });
  }

  it("GET {id} over h2c returns the same status and JSON as HTTP/1.1", async () => {
    const saved = await fetch(`${t.baseUrl}/api/v1/session-storage`, {
      method: "POST",
      headers: { ...t.clientA.headers, "content-type": "application/json" },
      body: JSON.stringify({ user_id: "usr_h2" }),
    });
    expect(saved.status).toBe(200);
    const { id, token } = (await saved.json()) as { id: string; token: string };

    const h1 = await fetch(`${t.baseUrl}/api/v1/session-storage/${id}`, { headers: t.clientA.headers });
    const h1Body = await h1.json();
    const h2 = await h2Request("GET", `/api/v1/session-storage/${id}`, t.clientA.headers);
    expect(h2.status).toBe(200);
    expect(h2.status).toBe(h1.status);
    expect(h2.headers["content-type"]).toMatch(/^application\/json/);
    expect(h2.headers["x-request-id"]).toBeTruthy();
    expect(JSON.parse(h2.text)).toEqual(h1Body);
    expect((h1Body as { token: string }).token).toBe(token);
  });

  it("GET list and POST over h2c behave as over HTTP/1.1", async () => {
    const h2Save = await h2Request(
      "POST",
      "/api/v1/session-storage",
      { ...t.clientA.headers, "content-type": "application/json" },
      JSON.stringify({ user_id: "usr_h2_list" }),
    );
    expect(h2Save.status).toBe(200);
    expect(JSON.parse(h2Save.text)).toMatchObject({ user_id: "usr_h2_list", is_valid: true });

    const path = "/api/v1/session-storage?user_id=usr_h2_list";
    const h1 = await fetch(`${t.baseUrl}${path}`, { headers: t.clientA.headers });
    const h2 = await h2Request("GET", path, t.clientA.headers);
    expect(h2.status).toBe(200);
    const h1Body = await h1.json();
    expect(JSON.parse(h2.text)).toEqual(h1Body);
    expect((h1Body as { pagination: { total: number } }).pagination.total).toBe(1);
  });

  it("errors over h2c have the same status and body (apart from the request id) as over HTTP/1.1", async () => {
    const path = "/api/v1/session-storage/usr_h2.0badc0de.0badc0de";
    const h1 = await fetch(`${t.baseUrl}${path}`, { headers: { ...t.clientA.headers, "x-request-id": "req-h1" } });
    const h2 = await h2Request("GET", path, { ...t.clientA.headers, "x-request-id": "req-h2" });
    expect(h1.status).toBe(404);
    expect(h2.status).toBe(404);
    const h1Body = (await h1.json()) as Record<string, unknown>;
    const h2Body = JSON.parse(h2.text) as Record<string, unknown>;
    expect(h1Body.request_id).toBe("req-h1");
    expect(h2Body.request_id).toBe("req-h2");
    expect(h2.headers["x-request-id"]).toBe("req-h2");
    expect({ ...h2Body, request_id: undefined }).toEqual({ ...h1Body, request_id: undefined });

    const unauth = await h2Request("GET", "/api/v1/session-storage", {});
    expect(unauth.status).toBe(401);
    expect(JSON.parse(unauth.text)).toMatchObject({ code: "unauthenticated" });
  });
});

// ---------------------------------------------------------------------------
// pagination.total is "the number of live sessions in the whole list"

describe("ListStoredSessions total counts live sessions only", () => {
  let t: TestApp;
  let rpc: Rpc;
  let a: Record<string, string>;
  beforeAll(async () => {
    t = await startTestApp({ INDEX_SWEEP_INTERVAL_MS: "200" });
    a = creds(t.clientA);
    rpc = connectRpc(createConnectTransport({ baseUrl: t.baseUrl, httpVersion: "1.1" }));
  });
  afterAll(async () => t?.close());

  it("expired sessions anywhere in the tenant's list are not counted, whatever the page size", async () => {
    const live = (await rpc.call("saveSession", { userId: "usr_live" }, a)).message.session!;
    await sleep(3);
    const lapseAt = Date.now() + 1500;
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => rpc.call("saveSession", { userId: `usr_lapse_${i % 3}`, expiresAt: timestampFromMs(lapseAt) }, a)),
    );
    expect((await rpc.call("listStoredSessions", { limit: 100 }, a)).message.pagination?.total).toBe(61);
    await sleep(Math.max(0, lapseAt - Date.now()) + 150);
    // A small tenant is checked whole on each count: a lapsed session whose
    // record Redis has already reclaimed stops counting once its create can
    // no longer be in flight (2.5 s after it began); never listed meanwhile.
    for (let i = 0; i < 40; i++) {
      if ((await rpc.call("listStoredSessions", { limit: 1 }, a)).message.pagination?.total === 1) break;
      await sleep(100);
    }

    const page = await rpc.call("listStoredSessions", { limit: 1 }, a);
    expect(page.message.data.map((s) => s.id)).toEqual([live.id]);
    expect(page.message.pagination?.total).toBe(1);
    const second = await rpc.call("listStoredSessions", { limit: 1, page: 2 }, a);
    expect(second.message.data).toEqual([]);
    expect(second.message.pagination?.total).toBe(1);
  });

  it("pages through more sessions than one index batch: every live session once, in order, with an exact total", async () => {
    const b = creds(t.clientB);
    const created: { id: string; createdAt: number }[] = [];
    // 1,050 live sessions (21 users x 50) and 40 that lapse at once, interleaved.
    let lapseAt = 0;
    for (let u = 0; u < 21; u++) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, () => t.app.core.create({ tenantId: t.clientB.id, userId: `usr_big_${u}` })),
      );
      created.push(...batch.map((r) => ({ id: r.session.id, createdAt: r.session.createdAt })));
      if (u % 10 === 0) {
        const soon = Date.now() + 1000;
        lapseAt = soon;
        await Promise.all(
          Array.from({ length: 20 }, () => t.app.core.create({ tenantId: t.clientB.id, userId: `usr_big_lapse_${u}`, expiresAt: soon })),
        );
      }
    }
    await sleep(Math.max(0, lapseAt - Date.now()) + 100);
    // A tenant this size (more than 64 entries per index bucket) is counted,
    // not checked whole: lapsed sessions leave the total at the sweeper's next
    // pass (every 200 ms here), and are never listed meanwhile.
    for (let i = 0; i < 50; i++) {
      if ((await rpc.call("listStoredSessions", { page: 1, limit: 1 }, b)).message.pagination?.total === 1050) break;
      await sleep(100);
    }
    const seen: string[] = [];
    for (let page = 1; page <= 12; page++) {
      const res = await rpc.call("listStoredSessions", { page, limit: 100 }, b);
      expect(res.message.pagination?.total).toBe(1050);
      expect(res.message.data.length).toBe(page <= 10 ? 100 : page === 11 ? 50 : 0);
      seen.push(...res.message.data.map((s) => s.id));
    }
    // Oldest first; equal creation times in id order, as the index keeps them.
    const expected = [...created].sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    expect(seen).toEqual(expected.map((e) => e.id));
  });

  it("sessions that are no longer active (ended by the client sessions face) are neither listed nor counted", async () => {
    const keep = (await rpc.call("saveSession", { userId: "usr_status" }, a)).message.session!;
    const end = (await rpc.call("saveSession", { userId: "usr_status" }, a)).message.session!;
    // 003's "end": the core rule every face shares.
    await t.app.core.setStatus(t.clientA.id, end.id, "ended");

    const byUser = await rpc.call("listStoredSessions", { userId: "usr_status", limit: 100 }, a);
    expect(byUser.message.data.map((s) => s.id)).toEqual([keep.id]);
    expect(byUser.message.pagination?.total).toBe(1);
    const tenant = await rpc.call("listStoredSessions", { limit: 100 }, a);
    expect(tenant.message.data.map((s) => s.id)).not.toContain(end.id);
    expect(tenant.message.pagination?.total).toBe(tenant.message.data.length);
  });
});
