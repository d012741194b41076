/** ApiClient is one backend service allowed to call the API; it is a tenant. */
export interface ApiClient {
  readonly id: string;
  readonly secret: string;
}

const clientIdPattern = /^[A-Za-z0-9_.-]{1,64}$/;

/** parseApiClients reads "id:secret,id:secret". */
export function parseApiClients(v: string): ApiClient[] {
  const clients = v.split(",").map((pair) => pair.trim()).filter(Boolean).map((pair, index) => {
    const at = pair.indexOf(":");
    const id = at < 0 ? pair : pair.slice(0, at);
    const secret = at < 0 ? "" : pair.slice(at + 1);
    // Entries are named by position: a mistyped entry may hold a secret, which must not be printed.
    if (!clientIdPattern.test(id)) throw new Error(`entry ${index + 1}: the client id must match ${clientIdPattern.source}`);
    if (secret.length < 16) throw new Error(`entry ${index + 1}: the secret must be at least 16 characters`);
    return Object.freeze({ id, secret });
  });
  if (clients.length === 0) throw new Error("needs at least one clientId:secret pair");
  if (new Set(clients.map((c) => c.id)).size !== clients.length) throw new Error("client ids must be unique");
  return clients;
}
