import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { NodeServerRequest, NodeServerResponse } from "../transport/node-http-types.js";
import { fromJson, ScalarType, type DescField, type JsonObject, type JsonValue, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { RestErrorBody } from "../../gen/sessionstorage/v1/rest_pb.js";
import { encodeJson } from "../dispatch/json-encoder.js";
import { LeanHeaders } from "../dispatch/lean-headers.js";
import type { UnaryDispatcher, UnaryProcedure } from "../dispatch/unary-dispatcher.js";
import { logSafePath } from "../observability/log-safe-path.js";
import { acceptRequestId } from "../observability/request-id.js";
import { codeName } from "./code-name.js";
import { httpStatusOfCode } from "./http-status.js";
import { matchPath, splitPath } from "./path-template.js";
import type { RestRoute } from "./rest-routes.js";

type Req = NodeServerRequest;
type Res = NodeServerResponse;

export interface RestHandlerOptions {
  readonly routes: readonly RestRoute[];
  /** Reaches the same implementations, through the same call steps, as gRPC and Connect. */
  readonly dispatcher: UnaryDispatcher;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
}

// Bodies over the limit: RESOURCE_EXHAUSTED to gRPC eyes, 413 over HTTP.
// (ConnectError's instanceof matches any ConnectError, so a subclass cannot mark them.)
const tooLarge = new WeakSet<ConnectError>();
function bodyTooLarge(limit: number): ConnectError {
  const error = new ConnectError(`request body is larger than ${limit} bytes`, Code.ResourceExhausted);
  tooLarge.add(error);
  return error;
}

/**
 * createRestHandler is the generic google.api.http transcoder: it matches a
 * request to a route, builds the request message from path, query and body,
 * calls the method through the transport, and renders the reply as the
 * route's options say. It has no per-endpoint code.
 */
export function createRestHandler(options: RestHandlerOptions): (req: Req, res: Res) => void {
  const { routes, dispatcher, logger, maxBodyBytes } = options;
  // Each route's procedure, resolved once: a route without one is a wiring mistake.
  const procedures = new Map<RestRoute, UnaryProcedure>(routes.map((route) => {
    const procedure = dispatcher.procedure(`/${route.method.parent.typeName}/${route.method.name}`);
    if (!procedure) throw new Error(`REST route ${route.httpMethod} ${route.pattern} has no implementation`);
    return [route, procedure];
  }));

  // Paths without captures, answered without walking every template (their
  // winner is found once, by the same walk).
  const literalRoutes = new Map<string, RestRoute>();
  for (const route of routes) {
    if (route.template.segments.some((s) => s.kind !== "literal")) continue;
    const found = findRoute(route.httpMethod, splitPath(route.pattern)!);
    if (found.route === route) literalRoutes.set(`${route.httpMethod} ${route.pattern}`, route);
  }

  const accessLog = logger.isLevelEnabled("info");

  return (req, res) => {
    const start = performance.now();
    const requestId = acceptRequestId(headerValue(req, "x-request-id"));
    // One line per HTTP request, whatever answered it (no route, 405, a decoding
    // error, the call), with the procedure and its code when a call was made.
    const detail: AccessDetail = {};
    // Below info level there is no access line to write, so nothing waits for the close.
    if (accessLog) {
      res.once("close", () => {
        // A request reset or timed out before its answer has no status to tell.
        const answered = res.headersSent && res.writableFinished;
        const status = res.headersSent ? res.statusCode : undefined;
        const line = { requestId, method: req.method, path: logSafePath(req.url ?? "/"), status, ms: round(performance.now() - start), ...detail };
        logger.info(answered ? line : { ...line, aborted: true }, "http request");
      });
    }
    handle(req, res, requestId, detail).catch((e: unknown) => {
      logger.error({ requestId, err: e instanceof Error ? e.message : String(e) }, "rest handler failed");
      if (!res.headersSent) sendJson(res, 500, { code: "internal", message: "internal error" }, requestId);
      else res.end();
    });
  };

  async function handle(req: Req, res: Res, requestId: string, detail: AccessDetail) {
    const method = (req.method ?? "GET").toUpperCase();
    // A request for a literal path, spelled exactly so and without a query,
    // needs no URL parsing: parsing would give back the same path.
    const exact = literalRoutes.get(`${method} ${req.url}`);
    // Prefixed, not resolved against a base: "//x/path" is a path, not a host.
    const url = exact ? undefined : new URL(`http://localhost${req.url ?? "/"}`);
    const literal = exact ?? literalRoutes.get(`${method} ${url!.pathname}`);
    const { route, captures, allowed } = literal ? { route: literal, captures: noCaptures, allowed: undefined } : findRoute(method, splitPath(url!.pathname));
    if (route) {
      detail.route = route.pattern;
      detail.procedure = procedures.get(route)!.name;
    }
    if (!route || !captures) {
      if (allowed && allowed.size > 0) {
        res.setHeader("allow", [...allowed].join(", "));
        return sendJson(res, 405, { code: "unimplemented", message: `method ${method} is not allowed here; use ${[...allowed].join(" or ")}` }, requestId);
      }
      return sendJson(res, 404, { code: "not_found", message: `no such endpoint: ${method} ${url!.pathname}` }, requestId);
    }

    let input;
    try {
      input = fromJson(route.method.input, await buildRequestJson(req, route, captures, url?.searchParams ?? noQuery), { ignoreUnknownFields: false });
    } catch (e) {
      const error = e instanceof ConnectError ? e : new ConnectError(`invalid request: ${(e as Error).message}`, Code.InvalidArgument);
      // The decoder quotes the offending value, which may be a token: the log keeps only the field.
      detail.code = codeName(error.code);
      detail.message = error.rawMessage.replace(/from JSON: .*/s, "from JSON");
      return sendError(res, route, error, requestId, true);
    }

    try {
      const reply = await dispatcher.call({
        procedure: procedures.get(route)!,
        input,
        // Node's parsed headers, as they are: the call reads what it needs.
        requestHeader: new LeanHeaders(req.headers),
        protocolName: "rest",
        requestMethod: method,
        url: url?.href ?? `http://localhost${req.url}`,
        requestId,
      }, (message) => (route.emptyBody && !unauthorized(route, message) ? undefined : renderJson(route, message)));
      detail.code = "ok";
      addTrace(detail, reply.header.get("traceparent"));
      const header = responseHeaders(reply.header.record);
      if (reply.body === undefined) {
        header["x-request-id"] = requestId;
        res.writeHead(route.successStatus, header);
        return void res.end();
      }
      return sendText(res, unauthorized(route, reply.message) ? 401 : route.successStatus, reply.body, requestId, header);
    } catch (e) {
      const error = ConnectError.from(e);
      detail.code = codeName(error.code);
      detail.message = error.rawMessage;
      addTrace(detail, error.metadata.get("traceparent"));
      return sendError(res, route, error, requestId, false, responseHeaders(recordOf(error.metadata)));
    }
  }

  // The first route of `method` matching the path, and every method the path allows.
  function findRoute(method: string, segments: string[] | undefined) {
    let route: RestRoute | undefined;
    let captures: Map<string, string> | undefined;
    const allowed = new Set<string>();
    for (const candidate of segments ? routes : []) {
      const match = matchPath(candidate.template, segments!);
      if (!match) continue;
      allowed.add(candidate.httpMethod);
      if (!route && candidate.httpMethod === method) {
        route = candidate;
        captures = match;
      }
    }
    return { route, captures, allowed };
  }

  async function buildRequestJson(req: Req, route: RestRoute, captures: ReadonlyMap<string, string>, query: URLSearchParams): Promise<JsonObject> {
    const fields = route.method.input.fields;
    let json: JsonObject = {};
    if (route.body !== "") {
      const parsed = await readJsonBody(req, maxBodyBytes);
      if (route.body === "*") {
        if (parsed !== undefined && (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))) {
          throw new ConnectError("request body must be a JSON object", Code.InvalidArgument);
        }
        json = (parsed as JsonObject | undefined) ?? {};
      } else if (parsed !== undefined) {
        json[route.body] = parsed as JsonValue;
      }
    }
    for (const [name, value] of captures) {
      // A body that names another resource than the path is a mistake, not a detail to drop.
      const field = fieldOf(fields, name);
      for (const key of new Set([name, field?.jsonName ?? name])) {
        if (key in json && json[key] !== value) {
          // The body's value is not quoted: it may be anything, a token included.
          throw new ConnectError(`${name} in the body differs from the one in the path`, Code.InvalidArgument);
        }
        delete json[key];
      }
      json[name] = value;
    }
    if (route.body === "*") {
      // Every field not in the path travels in the body: a query parameter here would be silently lost.
      const key = query.keys().next();
      if (!key.done) {
        throw new ConnectError(`unknown query parameter "${key.value}": this endpoint takes its fields in the JSON body`, Code.InvalidArgument);
      }
    } else {
      const fromQuery = new Map<string, string[]>();
      for (const [key, value] of query) fromQuery.set(key, [...(fromQuery.get(key) ?? []), value]);
      for (const [key, values] of fromQuery) {
        const field = fieldOf(fields, key);
        if (!field || captures.has(field.name) || field.name === route.body) {
          throw new ConnectError(`unknown query parameter "${key}"`, Code.InvalidArgument);
        }
        json[field.name] = field.fieldKind === "list" ? values.map((v) => queryValue(field, v)) : queryValue(field, values[values.length - 1]!);
      }
    }
    return json;
  }

  function unauthorized(route: RestRoute, message: unknown): boolean {
    return route.unauthorizedUnless !== undefined && (message as Record<string, unknown>)[route.unauthorizedUnless.localName] === false;
  }

  function renderJson(route: RestRoute, message: unknown): string {
    // toJson leaves unset message fields out; a document may list them on every reply (as null).
    const opts = { useProtoFieldName: route.useProtoFieldNames, alwaysEmitImplicit: true, nullForUnset: route.alwaysPresent };
    const field = route.responseField;
    if (!field) return encodeJson(route.method.output, message as Message, opts);
    const value = (message as Record<string, unknown>)[field.localName] as Message | undefined;
    if (value) return encodeJson(field.message, value, opts);
    const json: JsonObject = {};
    for (const unset of route.alwaysPresent) {
      const key = route.useProtoFieldNames ? unset.name : unset.jsonName;
      if (!(key in json)) json[key] = null;
    }
    return JSON.stringify(json);
  }

  function sendError(res: Res, route: RestRoute, error: ConnectError, requestId: string, decoding: boolean, header?: OutgoingHttpHeaders) {
    const status = tooLarge.has(error) ? 413 : httpStatusOfCode(error.code);
    const serverFault = status >= 500;
    const message = (serverFault || (decoding && route.errorBody === RestErrorBody.MESSAGE)) && route.internalErrorMessage
      ? route.internalErrorMessage
      : serverFault && error.code !== Code.Unavailable ? "internal error" : error.rawMessage;
    let body: JsonValue;
    switch (route.errorBody) {
      case RestErrorBody.AUTH_STATUS:
        body = { success: false, valid: false, error: `${message} [request_id: ${requestId}]` };
        break;
      case RestErrorBody.MESSAGE:
        body = { message };
        break;
      default:
        body = { code: codeName(error.code), message, request_id: requestId };
    }
    sendJson(res, status, body, requestId, header);
  }
}

/** What the access line adds when the request matched a route, or was refused before the call. */
interface AccessDetail {
  route?: string;
  procedure?: string;
  traceId?: string;
  spanId?: string;
  code?: string;
  message?: string;
}

// The call's traceparent names its trace and span; the access line carries both.
function addTrace(detail: AccessDetail, traceparent: string | null) {
  if (traceparent === null) return;
  detail.traceId = traceparent.slice(3, 35);
  detail.spanId = traceparent.slice(36, 52);
}

const noCaptures: ReadonlyMap<string, string> = new Map();
const noQuery = new URLSearchParams();

const round = (ms: number) => Math.round(ms * 100) / 100;

function fieldOf(fields: readonly DescField[], name: string): DescField | undefined {
  return fields.find((f) => f.name === name || f.jsonName === name);
}

function queryValue(field: DescField, value: string): JsonValue {
  if ((field.fieldKind === "scalar" || field.fieldKind === "list") && field.scalar === ScalarType.BOOL) {
    if (value === "true" || value === "1") return true;
    if (value === "false" || value === "0") return false;
    throw new ConnectError(`query parameter "${field.name}" must be true or false`, Code.InvalidArgument);
  }
  return value;
}

function headerValue(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readJsonBody(req: Req, limit: number): Promise<unknown> {
  // The body is read as JSON whatever its Content-Type says: curl -d sends
  // form-urlencoded by default, and a clear JSON error is more useful than a 415.
  const declared = Number(headerValue(req, "content-length") ?? "0");
  if (declared > limit) throw bodyTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw bodyTooLarge(limit);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    // V8's message quotes a piece of the body, which may hold a token: say where, not what.
    const position = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new ConnectError(`request body is not valid JSON${position ? ` (error at position ${position})` : ""}`, Code.InvalidArgument);
  }
}

// The call's response headers as Node takes them: the body's framing is this
// handler's, and gRPC's own headers mean nothing over REST.
function responseHeaders(record: Readonly<Record<string, string | string[] | undefined>>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in record) {
    const value = record[name];
    if (value === undefined || name === "content-type" || name === "content-length" || name.startsWith("grpc-") || name.startsWith(":")) continue;
    out[name] = typeof value === "string" || name === "set-cookie" ? value : value.join(", ");
  }
  return out;
}

// A Fetch Headers' fields as a record, each set-cookie kept apart.
function recordOf(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    if (name !== "set-cookie") out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  return out;
}

// One writeHead with every header: cheaper than a setHeader each.
function sendJson(res: Res, status: number, body: JsonValue, requestId: string, header: OutgoingHttpHeaders = {}) {
  sendText(res, status, JSON.stringify(body), requestId, header);
}

/** Sends JSON text already written. */
function sendText(res: Res, status: number, text: string, requestId: string, header: OutgoingHttpHeaders = {}) {
  header["content-type"] = "application/json; charset=utf-8";
  header["content-length"] = Buffer.byteLength(text);
  header["x-request-id"] = requestId;
  res.writeHead(status, header);
  (res as ServerResponse).end(text);
}
