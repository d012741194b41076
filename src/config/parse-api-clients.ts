import { limits } from "../core/limits.js";
import { apiClientSecretProblem } from "./api-client-secret-rule.js";

/** ApiClient is one backend service allowed to call the API; it is a tenant. */
export interface ApiClient {
  readonly id: string;
  readonly secret: string;
}

// A client is a tenant: its id is a tenant id.
const clientIdPattern = limits.tenantIdPattern;

/**
 * parseApiClients reads "id:secret,id:secret" and reports every problem at
 * once. Problems name the client id (or, for a malformed id, the entry's
 * position), never a secret.
 */
export function parseApiClients(v: string): ApiClient[] {
  const problems: string[] = [];
  const clients: ApiClient[] = [];
  v.split(",").map((pair) => pair.trim()).filter(Boolean).forEach((pair, index) => {
    const at = pair.indexOf(":");
    const id = at < 0 ? pair : pair.slice(0, at);
    const secret = at < 0 ? "" : pair.slice(at + 1);
    // A mistyped entry may hold a secret where the id should be, so it is named by position.
    if (!clientIdPattern.test(id)) return void problems.push(`entry ${index + 1}: the client id must match ${clientIdPattern.source}`);
    const weakness = apiClientSecretProblem(secret);
    if (weakness) problems.push(`client "${id}": ${weakness}`);
    clients.push(Object.freeze({ id, secret }));
  });
  if (clients.length === 0 && problems.length === 0) problems.push("needs at least one clientId:secret pair");
  const ids = new Set<string>();
  const secretOwner = new Map<string, string>();
  for (const { id, secret } of clients) {
    if (ids.has(id)) problems.push(`client id "${id}" is used twice`);
    ids.add(id);
    // A shared secret would make one tenant able to act as the other.
    const owner = secretOwner.get(secret);
    if (owner !== undefined && secret !== "") problems.push(`clients "${owner}" and "${id}" have the same secret: each client needs its own`);
    else secretOwner.set(secret, id);
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  return clients;
}
