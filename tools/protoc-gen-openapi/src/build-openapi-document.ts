import type { DescService, JsonObject } from "@bufbuild/protobuf";
import { buildRestRoutes } from "../../../src/rest/rest-routes.js";
import { buildOperation } from "./build-operation.js";
import { commentText } from "./comment-text.js";
import { createErrorResponses } from "./error-responses.js";
import { openApiPath } from "./openapi-path.js";
import { createSchemaRegistry } from "./schema-registry.js";
import { requestIdHeaderComponent } from "./request-id-header.js";
import { securitySchemes } from "./security.js";

export interface DocumentInfo {
  readonly title: string;
  readonly version: string;
}

// OpenAPI's own order of the methods of a path item.
const methodOrder = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/**
 * buildOpenApiDocument describes every REST route of the services. The routes
 * come from buildRestRoutes, the very function the REST transcoder serves
 * them from, so the document and the service read google.api.http and the
 * rest options alike. Paths and methods are sorted: the output is compared
 * byte for byte by scripts/check-generated.sh.
 */
export function buildOpenApiDocument(services: readonly DescService[], info: DocumentInfo): JsonObject {
  const routes = buildRestRoutes(services);
  const registry = createSchemaRegistry();
  const errors = createErrorResponses(registry);
  const operationIds = new Set<string>();
  const operations: { path: string; method: string; operation: JsonObject }[] = [];

  for (const route of routes) {
    const path = openApiPath(route.pattern, route.template);
    const method = route.httpMethod.toLowerCase();
    if (!methodOrder.includes(method)) throw new Error(`${route.pattern}: HTTP method ${route.httpMethod} has no OpenAPI operation`);
    if (operations.some((o) => o.path === path && o.method === method)) throw new Error(`${route.httpMethod} ${path} is bound twice`);
    // additional_bindings share a method name: later ones are numbered.
    let operationId = route.method.name;
    for (let n = 2; operationIds.has(operationId); n++) operationId = `${route.method.name}_${n}`;
    operationIds.add(operationId);
    operations.push({ path, method, operation: buildOperation(route, operationId, registry, errors) });
  }

  operations.sort((a, b) => compare(a.path, b.path) || methodOrder.indexOf(a.method) - methodOrder.indexOf(b.method));
  const paths: Record<string, JsonObject> = {};
  for (const { path, method, operation } of operations) (paths[path] ??= {})[method] = operation;

  const tags = [...new Set(routes.map((r) => r.method.parent))]
    .sort((a, b) => compare(a.name, b.name))
    .map((service) => ({ name: service.name, ...descriptionOf(service) }));

  return {
    openapi: "3.1.0",
    info: {
      title: info.title,
      version: info.version,
      description: "The documented REST/JSON APIs of the service, generated from proto/ (google.api.http rules and the sessionstorage.v1 REST options). The same methods are served over gRPC and Connect.",
    },
    tags,
    paths,
    components: {
      schemas: registry.components(),
      securitySchemes,
      responses: errors.components(),
      headers: { RequestId: requestIdHeaderComponent },
    },
  };
}

function descriptionOf(service: DescService): { description?: string } {
  const description = commentText(service);
  return description === undefined ? {} : { description };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
