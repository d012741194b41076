import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { RestErrorBody } from "../../../gen/sessionstorage/v1/rest_pb.js";
import { codeName } from "../../../src/rest/code-name.js";
import { errorStatusDescriptions } from "./error-statuses.js";
import { requestIdHeader } from "./request-id-header.js";
import type { SchemaRegistry } from "./schema-registry.js";

// Every Connect code name the transcoder may write in "code".
const codeNames = Object.values(Code).filter((c): c is Code => typeof c === "number").map(codeName);

/** The error body of each rest_service error_body style, as src/rest/rest-handler.ts sendError writes it. */
const errorBodies: Record<RestErrorBody, { name: string; schema: JsonObject }> = {
  [RestErrorBody.UNSPECIFIED]: {
    name: "Error",
    schema: {
      description: "An error: its Connect code name, a message, and the request id (also sent as the x-request-id header).",
      type: "object",
      properties: {
        code: { type: "string", enum: codeNames },
        message: { type: "string" },
        request_id: { type: "string" },
      },
      // A last-resort 500 (the handler itself failed) has no request_id in the body.
      required: ["code", "message"],
      additionalProperties: false,
    },
  },
  [RestErrorBody.AUTH_STATUS]: {
    name: "AuthStatusError",
    schema: {
      description: "An error of the auth status document: the check itself failed. The request id ends the error text.",
      type: "object",
      properties: {
        success: { const: false },
        valid: { const: false },
        error: { type: "string" },
      },
      required: ["success", "valid", "error"],
      additionalProperties: false,
    },
  },
  [RestErrorBody.MESSAGE]: {
    name: "MessageError",
    schema: {
      description: "An error of the cookie sessions document: a message only.",
      type: "object",
      properties: { message: { type: "string" } },
      required: ["message"],
      additionalProperties: false,
    },
  },
};

export interface ErrorResponses {
  /** A $ref to a style's error body schema. */
  body(style: RestErrorBody): JsonObject;
  /** A $ref to the response of a style at a status ("default" included), made on first use. */
  response(style: RestErrorBody, status: string): JsonObject;
  /** The response components, sorted by name. */
  components(): JsonObject;
}

/**
 * createErrorResponses shares one response component per style and status
 * (Error404, MessageError400, …): every operation of a service answers its
 * errors alike, so the document says each once.
 */
export function createErrorResponses(registry: SchemaRegistry): ErrorResponses {
  const bodies = new Map<RestErrorBody, JsonObject>();
  const responses = new Map<string, JsonObject>();
  const self: ErrorResponses = {
    body(style) {
      let ref = bodies.get(style);
      if (!ref) {
        const body = errorBodies[style];
        if (!body) throw new Error(`unknown error_body style ${style}`);
        ref = registry.addComponent(body.name, body.schema);
        bodies.set(style, ref);
      }
      return ref;
    },
    response(style, status) {
      const name = `${errorBodies[style].name}${status === "default" ? "Default" : status}`;
      if (!responses.has(name)) {
        responses.set(name, { description: errorStatusDescriptions[status]!, headers: requestIdHeader, content: { "application/json": { schema: self.body(style) } } });
      }
      return { $ref: `#/components/responses/${name}` };
    },
    components() {
      return Object.fromEntries([...responses].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    },
  };
  return self;
}
