import type { PathTemplate } from "../../../src/rest/path-template.js";

/**
 * openApiPath writes a google.api.http path template as an OpenAPI path:
 * "/v1/{session_id}/touch". OpenAPI has no multi-segment parameters or bare
 * wildcards, so templates that use them are refused rather than mis-described.
 */
export function openApiPath(pattern: string, template: PathTemplate): string {
  const parts = template.segments.map((segment) => {
    switch (segment.kind) {
      case "literal":
        return segment.value;
      case "capture":
        if (segment.multi || segment.prefix.some((p) => p.kind !== "wildcard")) {
          throw new Error(`${pattern}: {${segment.field}=…} captures cannot be described in OpenAPI`);
        }
        return `{${segment.field}}`;
      default:
        throw new Error(`${pattern}: bare wildcards cannot be described in OpenAPI`);
    }
  });
  return `/${parts.join("/")}`;
}

/** pathFields are the request fields a template captures, in order. */
export function pathFields(template: PathTemplate): string[] {
  return template.segments.flatMap((segment) => (segment.kind === "capture" ? [segment.field] : []));
}
