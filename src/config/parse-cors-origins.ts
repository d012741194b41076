/**
 * parseCorsOrigins reads a comma-separated list of browser origins, each
 * exactly as a browser sends it in the Origin header (scheme://host[:port],
 * lower case, no default port, no path, no trailing slash), or "*". An entry
 * written any other way could never match, and would refuse every call from
 * that origin without a word, so it is a start-up error that says what to write.
 */
export function parseCorsOrigins(v: string): string[] {
  const problems: string[] = [];
  const origins = v.split(",").map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    const problem = originProblem(origin);
    if (problem) problems.push(`"${origin}" ${problem}`);
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  return [...new Set(origins)];
}

function originProblem(origin: string): string | undefined {
  if (origin === "*") return undefined;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return "is not an origin: write scheme://host[:port], e.g. https://app.example.com";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must use http or https";
  if (url.username || url.password) return "must not carry a user name or password";
  if (url.search || url.hash || url.pathname !== "/" || origin.endsWith("/")) {
    return `must not have a path, query or trailing slash: write ${url.origin}`;
  }
  // Browsers send the host in lower case and leave out the default port.
  if (url.origin !== origin) return `is not written as browsers send it: write ${url.origin}`;
  return undefined;
}
