// The OpenAPI document (gen/openapi/, generated from proto/ by
// tools/protoc-gen-openapi, served at GET /openapi.json) against the running
// service: every documented operation is called, through the document's own
// paths and parameters, and every reply is validated with ajv against the
// document's schema for its status. A renamed field, a removed path or a
// changed status fails here.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestApp, type TestApp } from "./support/test-app.js";

type Json = Record<string, any>;

const generated = JSON.parse(readFileSync(new URL("../gen/openapi/openapi.json", import.meta.url), "utf8")) as Json;
const templates = { mailer: { lifetime_seconds: 30, claims: { mail: "email" } } };

let t: TestApp;
/** The document as the service serves it: what is validated against. */
let doc: Json;
let ajv: Ajv2020;

beforeAll(async () => {
  t = await startTestApp({ JWT_TEMPLATES: JSON.stringify(templates) });
  const res = await fetch(`${t.baseUrl}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Json;
  ajv = validatorFor(doc);
});
afterAll(async () => t?.close());

/** ajv over the whole document, so "#/components/…" references resolve as in the document. */
function validatorFor(document: Json): Ajv2020 {
  // OpenAPI's top-level keys are not JSON Schema keywords: declared, so strict mode stays on for the schemas.
  const validator = new Ajv2020({ allErrors: true, allowUnionTypes: true, strictTypes: false });
  validator.addVocabulary(["openapi", "info", "tags", "paths", "components", "servers", "security", "webhooks"]);
  formats.default(validator);
  validator.addSchema(document, "openapi.json");
  return validator;
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");

// Compiled once per schema location (and validator).
const compiled = new WeakMap<Ajv2020, Map<string, ValidateFunction>>();

function schemaAt(validator: Ajv2020, ...parts: string[]): ValidateFunction {
  const ref = `openapi.json#/${pointer(...parts)}`;
  let cache = compiled.get(validator);
  if (!cache) compiled.set(validator, (cache = new Map()));
  let validate = cache.get(ref);
  if (!validate) cache.set(ref, (validate = validator.compile({ $ref: ref })));
  return validate;
}

function expectValid(validate: ValidateFunction, value: unknown, what: string) {
  const ok = validate(value);
  expect(ok, `${what}: ${JSON.stringify(validate.errors)}\n${JSON.stringify(value)}`).toBe(true);
}

interface Operation {
  path: string;
  method: string;
  operation: Json;
}

function operations(document: Json): Operation[] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, operation]) => ({ path, method, operation: operation as Json })),
  );
}

function findOperation(operationId: string): Operation {
  const found = operations(doc).find((o) => o.operation.operationId === operationId);
  expect(found, `operation ${operationId} is not in the document`).toBeDefined();
  return found!;
}

/** The response object of a status, or "default"; a component reference is followed. */
function responseFor(operation: Json, status: number): { key: string; response: Json; pointer: string[] } | undefined {
  const key = String(status) in operation.responses ? String(status) : "default" in operation.responses ? "default" : undefined;
  if (key === undefined) return undefined;
  const response = operation.responses[key] as Json;
  if (typeof response.$ref === "string") {
    const name = response.$ref.replace("#/components/responses/", "");
    return { key, response: doc.components.responses[name], pointer: ["components", "responses", name] };
  }
  return { key, response, pointer: [] };
}

// What the calls covered: "operationId status", and the error body components replies matched.
const covered = new Set<string>();
const errorBodiesSeen = new Set<string>();

interface Call {
  headers?: Record<string, string>;
  path?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

/**
 * call makes one documented operation's request, built from the document
 * (its path template, its method, only documented parameters, a body valid
 * against its request schema), and validates the reply against the
 * document's response for the status.
 */
async function call(operationId: string, expectedStatus: number, c: Call = {}): Promise<{ headers: Headers; body: Json }> {
  const { path, method, operation } = findOperation(operationId);
  const parameters = (operation.parameters ?? []) as Json[];
  const documented = (where: string) => new Set(parameters.filter((p) => p.in === where).map((p) => p.name as string));
  expect([...Object.keys(c.path ?? {})].sort()).toEqual([...documented("path")].sort());
  for (const name of Object.keys(c.query ?? {})) expect(documented("query"), `${operationId}: query parameter ${name}`).toContain(name);
  let url = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(c.path![name]!));
  if (c.query) url += `?${new URLSearchParams(c.query)}`;
  if (c.body !== undefined) {
    expect(operation.requestBody, `${operationId} documents a request body`).toBeDefined();
    expectValid(schemaAt(ajv, "paths", path, method, "requestBody", "content", "application/json", "schema"), c.body, `${operationId} request`);
  }

  const res = await fetch(`${t.baseUrl}${url}`, {
    method: method.toUpperCase(),
    headers: { ...(c.body !== undefined ? { "content-type": "application/json" } : {}), ...c.headers },
    body: c.body === undefined ? undefined : JSON.stringify(c.body),
  });
  const text = await res.text();
  expect(res.status, `${operationId}: ${text}`).toBe(expectedStatus);
  expect(res.headers.get("x-request-id")).toBeTruthy();

  const found = responseFor(operation, res.status);
  expect(found, `${operationId} documents status ${res.status}`).toBeDefined();
  const { key, response, pointer: at } = found!;
  let body: Json = {};
  if (response.content === undefined) {
    expect(text, `${operationId} ${res.status} has no body`).toBe("");
  } else {
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    body = JSON.parse(text) as Json;
    const where = at.length > 0 ? at : ["paths", path, method, "responses", key];
    expectValid(schemaAt(ajv, ...where, "content", "application/json", "schema"), body, `${operationId} ${res.status}`);
    if (res.status >= 400) {
      for (const name of ["Error", "AuthStatusError", "MessageError"]) {
        if (schemaAt(ajv, "components", "schemas", name)(body)) errorBodiesSeen.add(name);
      }
    }
  }
  covered.add(`${operationId} ${res.status}`);
  return { headers: res.headers, body };
}

const uid = () => `usr_${randomBytes(6).toString("hex")}`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

/** A session saved through the API itself; its token is minted and returned once. */
async function saveSession(userId: string, user: Json = { id: 1, username: "admin", email: "admin@example.test" }) {
  const { body } = await call("SaveSession", 200, { headers: t.clientA.headers, body: { user_id: userId, user } });
  return { id: body.id as string, token: body.token as string };
}

describe("the document", () => {
  test("is served at GET /openapi.json as generated into gen/openapi/openapi.json", async () => {
    const res = await fetch(`${t.baseUrl}/openapi.json`);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual(generated);
    expect(doc.openapi).toBe("3.1.0");
  });

  test("resolves every reference and names each operation once", () => {
    const refs: string[] = [];
    const walk = (value: unknown) => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) k === "$ref" ? refs.push(v as string) : walk(v);
      }
    };
    walk(doc);
    for (const ref of refs) {
      const target = ref.slice(2).split("/").reduce<any>((node, part) => node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
      expect(target, ref).toBeDefined();
    }
    const ids = operations(doc).map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { operation } of operations(doc)) {
      for (const requirement of operation.security as Json[]) {
        for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes).toHaveProperty(scheme);
      }
    }
  });

  test("describes the documents' field names: snake_case for 000–003, camelCase for 004", () => {
    expect(Object.keys(doc.components.schemas.StoredSession.properties)).toEqual(expect.arrayContaining(["user_id", "token_preview", "expires_at", "is_valid", "saved_at"]));
    expect(Object.keys(doc.components.schemas.CookieSession.properties)).toEqual(["userId", "sessionId", "sessionExpiry", "_id", "__v"]);
    expect(Object.keys(doc.components.schemas.CookieSessionUser.properties)).toEqual(["email", "userId", "role"]);
    const createBody = doc.paths["/api/session/createSession"].post.requestBody.content["application/json"].schema;
    expect(createBody.properties).toHaveProperty("userID");
  });
});

describe("Secure Session Storage (000)", () => {
  test("every operation, with the documented bodies", async () => {
    const user = uid();
    const saved = await saveSession(user);
    const list = await call("ListStoredSessions", 200, { headers: t.clientA.headers, query: { user_id: user, page: "1", limit: "20" } });
    expect(list.body.data.map((s: Json) => s.id)).toEqual([saved.id]);
    const one = await call("GetStoredSession", 200, { headers: t.clientA.headers, path: { id: saved.id } });
    expect(one.body.token).toBe(saved.token);
    await call("GetStoredSession", 200, { headers: bearer(saved.token), path: { id: saved.id } });
    await call("GetCurrentSession", 200, { headers: t.clientA.headers, query: { user_id: user } });
    await call("GetCurrentSession", 200, { headers: bearer(saved.token) });
    const valid = await call("GetSessionValidity", 200, { headers: t.clientA.headers, query: { user_id: user } });
    expect(typeof valid.body.expires_at).toBe("string");
    // always_present: no current session is expires_at null, which the schema must allow.
    const none = await call("GetSessionValidity", 200, { headers: t.clientA.headers, query: { user_id: uid() } });
    expect(none.body.expires_at).toBeNull();
    await call("UpdateStoredSession", 200, {
      headers: t.clientA.headers,
      path: { id: saved.id },
      body: { token: `tok_${randomBytes(16).toString("hex")}`, expires_at: inAnHour() },
    });
    const deleted = await call("DeleteStoredSession", 200, { headers: t.clientA.headers, path: { id: saved.id } });
    expect(deleted.body).toEqual({ deleted: true, id: saved.id });
    await saveSession(user);
    const cleared = await call("ClearSessions", 200, { headers: t.clientA.headers, query: { user_id: user } });
    expect(cleared.body.cleared).toBe(true);
  });

  test("errors: {code, message, request_id}", async () => {
    const missing = await call("GetStoredSession", 404, { headers: t.clientA.headers, path: { id: "usr_nobody.00000000.00000000" } });
    expect(missing.body.code).toBe("not_found");
    await call("ListStoredSessions", 401);
    await call("UpdateStoredSession", 400, { headers: t.clientA.headers, path: { id: "usr_nobody.00000000.00000000" }, body: {} });
  });
});

describe("Sessions management (001)", () => {
  test("every operation; delete and extend answer 204 with no body", async () => {
    const user = uid();
    const saved = await saveSession(user);
    const list = await call("ListSessions", 200, { headers: t.clientA.headers, query: { user_id: user, page_size: "10" } });
    expect(list.body.data.map((s: Json) => s.id)).toEqual([saved.id]);
    await call("GetSession", 200, { headers: t.clientA.headers, path: { session_id: saved.id } });
    await call("UpdateSessionExpiration", 204, { headers: t.clientA.headers, path: { session_id: saved.id }, query: { ttl_seconds: "3600" } });
    await call("DeleteSession", 204, { headers: t.clientA.headers, path: { session_id: saved.id } });
    await call("GetSession", 404, { headers: t.clientA.headers, path: { session_id: saved.id } });
    await call("UpdateSessionExpiration", 400, { headers: t.clientA.headers, path: { session_id: saved.id }, query: { ttl_seconds: "0" } });
  });
});

describe("Auth status (002)", () => {
  test("200 valid; 401 with valid false; 401 with the documented error body", async () => {
    const saved = await saveSession(uid());
    const ok = await call("GetAuthStatus", 200, { headers: bearer(saved.token) });
    expect(ok.body).toMatchObject({ success: true, valid: true });
    const dead = await call("GetAuthStatus", 401, { headers: bearer(`not-a-session-${randomBytes(8).toString("hex")}`) });
    expect(dead.body).toMatchObject({ success: true, valid: false });
    const noToken = await call("GetAuthStatus", 401);
    expect(noToken.body).toMatchObject({ success: false, valid: false });
    expect(noToken.body.error).toMatch(/request_id/);
  });
});

describe("Client sessions (003) and the JWKS", () => {
  test("every operation, as the session's holder and as the API client", async () => {
    const user = uid();
    const first = await saveSession(user);
    const second = await saveSession(user);
    const path = { session_id: first.id };
    const got = await call("GetClientSession", 200, { headers: bearer(first.token), path });
    expect(got.body.response.id).toBe(first.id);
    await call("TouchClientSession", 200, { headers: bearer(first.token), path });
    const jwt = await call("CreateSessionToken", 200, { headers: bearer(first.token), path });
    expect(jwt.body.jwt.split(".")).toHaveLength(3);
    await call("CreateSessionTokenFromTemplate", 200, { headers: bearer(first.token), path: { ...path, template_name: "mailer" } });
    await call("CreateSessionTokenFromTemplate", 404, { headers: bearer(first.token), path: { ...path, template_name: "no-such-template" } });
    await call("RemoveClientSession", 200, { headers: t.clientA.headers, path: { session_id: second.id } });
    const ended = await call("EndClientSession", 200, { headers: bearer(first.token), path });
    expect(ended.body.response.status).toBe("ended");
    await call("GetClientSession", 404, { headers: t.clientA.headers, path: { session_id: "usr_nobody.00000000.00000000" } });
    const jwks = await call("GetJwks", 200);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
  });
});

describe("Cookie sessions (004)", () => {
  test("create, validate and delete; errors are {message}", async () => {
    const created = await call("CreateCookieSession", 200, {
      headers: t.clientA.headers,
      body: { userID: uid(), email: "sample@email.com", role: "Admin" },
    });
    const cookie = created.headers.getSetCookie().map((c) => /^sessionCookie=([^;]*)/.exec(c)?.[1]).find(Boolean);
    expect(cookie).toBeTruthy();
    const valid = await call("ValidateCookieSession", 200, { headers: { Cookie: `sessionCookie=${cookie}` } });
    expect(valid.body.data).toMatchObject({ email: "sample@email.com", role: "Admin" });
    await call("DeleteCookieSession", 200, { headers: { Cookie: `sessionCookie=${cookie}` } });
    const noCookie = await call("ValidateCookieSession", 400);
    expect(Object.keys(noCookie.body)).toEqual(["message"]);
    await call("CreateCookieSession", 401, { body: { userID: uid() } });
  });
});

describe("Sign out everywhere", () => {
  test("revoke a user's sessions (API client); end a user's other sessions (Bearer)", async () => {
    const user = uid();
    const keep = await saveSession(user);
    await saveSession(user);
    const ended = await call("EndOtherSessions", 200, { headers: bearer(keep.token), path: { session_id: keep.id } });
    expect(ended.body.ended_count).toBe(1);
    await saveSession(user);
    const revoked = await call("RevokeUserSessions", 200, { headers: t.clientA.headers, path: { user_id: user }, body: { reason: "password changed" } });
    expect(revoked.body.revoked_count).toBe(2);
    await call("RevokeUserSessions", 401, { path: { user_id: user }, body: {} });
  });
});

describe("coverage", () => {
  test("every documented operation was called with its success status", () => {
    const missing = operations(doc)
      .map(({ operation }) => `${operation.operationId} ${Object.keys(operation.responses).find((s) => s.startsWith("2"))}`)
      .filter((key) => !covered.has(key));
    expect(missing).toEqual([]);
  });

  test("every error body style was seen and validated", () => {
    expect([...errorBodiesSeen].sort()).toEqual(["AuthStatusError", "Error", "MessageError"]);
  });

  test("a renamed field fails validation", async () => {
    // The document with StoredSession.user_id renamed: the service's real reply must no longer pass.
    const renamed = structuredClone(doc);
    const props = renamed.components.schemas.StoredSession.properties;
    props.userId = props.user_id;
    delete props.user_id;
    renamed.components.schemas.StoredSession.required = renamed.components.schemas.StoredSession.required.map((n: string) => (n === "user_id" ? "userId" : n));
    const { body } = await call("SaveSession", 200, { headers: t.clientA.headers, body: { user_id: uid() } });
    expect(schemaAt(validatorFor(renamed), "components", "schemas", "StoredSession")(body)).toBe(false);
  });
});
