// RFC 9110 token characters: anything else cannot be a header name.
const headerNamePattern = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** parseCorsHeaders reads a comma-separated list of request header names, lower-cased. */
export function parseCorsHeaders(v: string): string[] {
  const names = v.split(",").map((h) => h.trim()).filter(Boolean);
  const bad = names.filter((h) => !headerNamePattern.test(h) || h === "*");
  if (bad.length > 0) throw new Error(`not header names: ${bad.map((h) => `"${h}"`).join(", ")}`);
  return [...new Set(names.map((h) => h.toLowerCase()))];
}
