/**
 * A parsed google.api.http path template: "/v1/{name=shelves/*}/books/{id}".
 * Supports literals, "*", "**", {field} and {field=pattern}; a trailing
 * ":verb" is kept as part of the last literal.
 */
export interface PathTemplate {
  readonly segments: readonly Segment[];
  /** How many literal segments; more literals win when templates overlap. */
  readonly literalCount: number;
}

type Segment =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "wildcard" }
  | { readonly kind: "rest" }
  | { readonly kind: "capture"; readonly field: string; readonly multi: boolean; readonly prefix: readonly Segment[] };

export function parsePathTemplate(template: string): PathTemplate {
  if (!template.startsWith("/")) throw new Error(`path template "${template}" must start with /`);
  const segments: Segment[] = [];
  // Split on "/" outside braces, so {name=a/*} stays one capture.
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of template.slice(1)) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (ch === "/" && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  for (const part of parts) {
    const capture = /^\{([A-Za-z_][A-Za-z0-9_.]*)(?:=(.+))?\}$/.exec(part);
    if (capture) {
      const pattern = capture[2] ?? "*";
      const inner = pattern.split("/").map(simpleSegment);
      const multi = inner.some((s) => s.kind === "rest");
      segments.push({ kind: "capture", field: capture[1]!, multi, prefix: inner });
    } else {
      segments.push(simpleSegment(part));
    }
  }
  return { segments, literalCount: segments.filter((s) => s.kind === "literal").length };
}

function simpleSegment(part: string): Segment {
  if (part === "*") return { kind: "wildcard" };
  if (part === "**") return { kind: "rest" };
  return { kind: "literal", value: part };
}

/**
 * matchPath matches decoded path segments; returns the captured fields or
 * undefined. Captured values are percent-decoded per segment.
 */
export function matchPath(template: PathTemplate, path: readonly string[]): Map<string, string> | undefined {
  const captures = new Map<string, string>();
  let i = 0;
  const segs = template.segments;
  for (let s = 0; s < segs.length; s++) {
    const seg = segs[s]!;
    const remainingAfter = segs.length - s - 1;
    if (seg.kind === "literal") {
      if (path[i] !== seg.value) return undefined;
      i++;
    } else if (seg.kind === "wildcard") {
      if (path[i] === undefined || path[i] === "") return undefined;
      i++;
    } else if (seg.kind === "rest") {
      i = path.length - remainingAfter;
      if (i < 0) return undefined;
    } else {
      const width = seg.multi ? path.length - i - remainingAfter : seg.prefix.length;
      if (width < 1) return undefined;
      const taken = path.slice(i, i + width);
      if (taken.length !== width || taken.some((p) => p === "")) return undefined;
      if (!seg.multi) {
        for (let k = 0; k < seg.prefix.length; k++) {
          const p = seg.prefix[k]!;
          if (p.kind === "literal" && p.value !== taken[k]) return undefined;
        }
      }
      captures.set(seg.field, taken.join("/"));
      i += width;
    }
  }
  return i === path.length ? captures : undefined;
}

/** splitPath splits a URL path into percent-decoded segments; undefined when undecodable. */
export function splitPath(pathname: string): string[] | undefined {
  try {
    return pathname.slice(1).split("/").map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}
