import { getOption, hasOption, ScalarType, type DescField, type DescMethodUnary, type DescService } from "@bufbuild/protobuf";
import { http } from "../../gen/google/api/annotations_pb.js";
import type { HttpRule } from "../../gen/google/api/http_pb.js";
import {
  rest_method,
  rest_service,
  RestErrorBody,
  RestJsonNames,
} from "../../gen/sessionstorage/v1/rest_pb.js";
import { parsePathTemplate, type PathTemplate } from "./path-template.js";

/** RestRoute is one HTTP binding of one unary method, read from its options. */
export interface RestRoute {
  readonly httpMethod: string;
  readonly template: PathTemplate;
  readonly pattern: string;
  readonly method: DescMethodUnary;
  /** "" (no body), "*" (the whole request), or a request field name. */
  readonly body: string;
  /** The response field rendered as the body (response_body); the whole response when absent. */
  readonly responseField: (DescField & { fieldKind: "message" }) | undefined;
  readonly useProtoFieldNames: boolean;
  readonly errorBody: RestErrorBody;
  readonly successStatus: number;
  readonly emptyBody: boolean;
  /** A bool response field: when false the reply is a 401. */
  readonly unauthorizedUnless: DescField | undefined;
  readonly internalErrorMessage: string;
  /** Fields of the rendered message that are JSON null when unset. */
  readonly alwaysPresent: readonly DescField[];
}

/**
 * buildRestRoutes reads the google.api.http rules (and additional_bindings)
 * and this project's rest options from the generated descriptors. Routes with
 * more literal segments come first, so "/x/current" wins over "/x/{id}".
 */
export function buildRestRoutes(services: readonly DescService[]): RestRoute[] {
  const routes: RestRoute[] = [];
  for (const service of services) {
    const serviceOptions = getOption(service, rest_service);
    for (const method of service.methods) {
      if (method.methodKind !== "unary" || !hasOption(method, http)) continue;
      const unary = method as DescMethodUnary;
      const methodOptions = getOption(method, rest_method);
      const rule = getOption(method, http);
      for (const binding of [rule, ...rule.additionalBindings]) {
        const route = toRoute(binding);
        if (!route) continue;
        const responseField = messageField(unary, binding.responseBody);
        routes.push({
          ...route,
          method: unary,
          body: binding.body,
          responseField,
          useProtoFieldNames: serviceOptions.jsonNames !== RestJsonNames.JSON,
          errorBody: serviceOptions.errorBody,
          successStatus: methodOptions.successStatus || 200,
          emptyBody: methodOptions.emptyBody,
          unauthorizedUnless: boolField(unary, methodOptions.unauthorizedUnless),
          internalErrorMessage: methodOptions.internalErrorMessage || serviceOptions.internalErrorMessage,
          alwaysPresent: alwaysPresentFields(unary, responseField, methodOptions.alwaysPresent),
        });
      }
    }
  }
  return routes.sort((a, b) => b.template.literalCount - a.template.literalCount);
}

// Field names in the options are resolved here, once: a misspelt one fails
// at start-up, not silently in a reply.

function messageField(method: DescMethodUnary, name: string): (DescField & { fieldKind: "message" }) | undefined {
  if (name === "") return undefined;
  const field = method.output.fields.find((f) => f.name === name);
  if (field?.fieldKind !== "message") throw new Error(`${method.parent.typeName}/${method.name}: response_body "${name}" is not a message field`);
  return field;
}

function boolField(method: DescMethodUnary, name: string): DescField | undefined {
  if (name === "") return undefined;
  const field = method.output.fields.find((f) => f.name === name);
  if (field?.fieldKind !== "scalar" || field.scalar !== ScalarType.BOOL) {
    throw new Error(`${method.parent.typeName}/${method.name}: unauthorized_unless "${name}" is not a bool field`);
  }
  return field;
}

function alwaysPresentFields(method: DescMethodUnary, responseField: DescField & { fieldKind: "message" } | undefined, names: readonly string[]): DescField[] {
  const rendered = responseField ? responseField.message : method.output;
  return names.map((name) => {
    const field = rendered.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${method.parent.typeName}/${method.name}: always_present names "${name}", not a field of ${rendered.typeName}`);
    return field;
  });
}

function toRoute(rule: HttpRule): { httpMethod: string; template: PathTemplate; pattern: string } | undefined {
  const p = rule.pattern;
  let httpMethod: string;
  let pattern: string;
  switch (p.case) {
    case "get":
    case "put":
    case "post":
    case "delete":
    case "patch":
      httpMethod = p.case.toUpperCase();
      pattern = p.value;
      break;
    case "custom":
      httpMethod = p.value.kind.toUpperCase();
      pattern = p.value.path;
      break;
    default:
      return undefined;
  }
  return { httpMethod, pattern, template: parsePathTemplate(pattern) };
}
