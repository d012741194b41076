import { sessionEventTypes } from "../events/session-event.js";

/** Webhook is one API client's webhook: where its tenant's session events are POSTed, and how they are signed. */
export interface Webhook {
  /** The API client (tenant) whose events go to this hook. */
  readonly clientId: string;
  readonly url: string;
  /** The HMAC-SHA-256 key: the bytes of the client's `whsec_<base64>` secret. */
  readonly secret: Buffer;
  /** Event types delivered; empty: all. */
  readonly types: readonly string[];
}

// Standard Webhooks: symmetric secrets are 24 to 64 bytes, given as whsec_<base64>.
const minSecretBytes = 24;
const maxSecretBytes = 64;

/**
 * parseWebhooks reads WEBHOOKS (`clientId=url,…`, or JSON
 * `{"clientId": "url" | {"url": "…", "types": ["revoked", …]}}`) and
 * WEBHOOK_SECRETS (`clientId=whsec_<base64>,…`). Every hook needs a secret
 * and an API client; every problem is pushed, naming the client id and
 * never the secret.
 */
export function parseWebhooks(hooksText: string | undefined, secretsText: string | undefined, clientIds: readonly string[] | undefined, problems: string[]): Webhook[] {
  const hooks = hooksText?.trim() ?? "";
  const secretsGiven = secretsText?.trim() ?? "";
  if (hooks === "") {
    if (secretsGiven !== "") problems.push("WEBHOOK_SECRETS is set but WEBHOOKS is not: configure the hooks too, or unset it");
    return [];
  }
  const entries = readHooks(hooks, problems);
  // A client whose secret was refused is not reported as missing one as well.
  const { secrets, refused } = readSecrets(secretsGiven, problems);
  const known = new Set(clientIds ?? []);
  const out: Webhook[] = [];
  for (const entry of entries) {
    const { clientId } = entry;
    // API_CLIENTS may itself be invalid (reported on its own): no cross-check then.
    if (clientIds !== undefined && !known.has(clientId)) problems.push(`WEBHOOKS: "${clientId}" is not a client of API_CLIENTS`);
    const urlProblem = webhookUrlProblem(entry.url);
    if (urlProblem) problems.push(`WEBHOOKS: client "${clientId}": ${urlProblem}`);
    const unknown = entry.types.filter((t) => !(sessionEventTypes as readonly string[]).includes(t));
    if (unknown.length > 0) problems.push(`WEBHOOKS: client "${clientId}": unknown event type ${unknown.map((t) => `"${t}"`).join(", ")}; known: ${sessionEventTypes.join(", ")}`);
    const secret = secrets.get(clientId);
    if (secret === undefined && !refused.has(clientId)) problems.push(`WEBHOOK_SECRETS: no secret for client "${clientId}" (write ${clientId}=whsec_<base64 of 24-64 random bytes>)`);
    else if (secret !== undefined) out.push(Object.freeze({ clientId, url: entry.url, secret, types: Object.freeze([...new Set(entry.types)]) }));
  }
  const hooked = new Set(entries.map((e) => e.clientId));
  for (const clientId of secrets.keys()) {
    if (!hooked.has(clientId)) problems.push(`WEBHOOK_SECRETS: client "${clientId}" has a secret but no hook in WEBHOOKS`);
  }
  return out;
}

interface HookEntry {
  readonly clientId: string;
  readonly url: string;
  readonly types: readonly string[];
}

function readHooks(text: string, problems: string[]): HookEntry[] {
  const entries: HookEntry[] = [];
  if (text.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      problems.push("WEBHOOKS is not valid JSON");
      return [];
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      problems.push('WEBHOOKS must be a JSON object: {"clientId": "https://…"} or {"clientId": {"url": "https://…", "types": ["revoked"]}}');
      return [];
    }
    for (const [clientId, value] of Object.entries(parsed)) {
      const hook = typeof value === "string" ? { url: value } : (value as { url?: unknown; types?: unknown } | null);
      const types = hook?.types ?? [];
      if (typeof hook?.url !== "string" || !Array.isArray(types) || !types.every((t) => typeof t === "string")) {
        problems.push(`WEBHOOKS: client "${clientId}" must be a URL string or {"url": "…", "types": ["…"]}`);
        continue;
      }
      entries.push({ clientId, url: hook.url, types });
    }
  } else {
    text.split(",").map((e) => e.trim()).filter(Boolean).forEach((entry, index) => {
      const at = entry.indexOf("=");
      if (at <= 0) return void problems.push(`WEBHOOKS: entry ${index + 1} must be clientId=url`);
      entries.push({ clientId: entry.slice(0, at).trim(), url: entry.slice(at + 1).trim(), types: [] });
    });
  }
  const seen = new Set<string>();
  for (const { clientId } of entries) {
    if (seen.has(clientId)) problems.push(`WEBHOOKS: client "${clientId}" has more than one hook`);
    seen.add(clientId);
  }
  return entries;
}

function readSecrets(text: string, problems: string[]): { secrets: Map<string, Buffer>; refused: Set<string> } {
  const secrets = new Map<string, Buffer>();
  const refused = new Set<string>();
  text.split(",").map((e) => e.trim()).filter(Boolean).forEach((entry, index) => {
    const at = entry.indexOf("=");
    // A mistyped entry may be all secret, so it is named by position.
    if (at <= 0) return void problems.push(`WEBHOOK_SECRETS: entry ${index + 1} must be clientId=whsec_<base64>`);
    const clientId = entry.slice(0, at).trim();
    const key = parseWebhookSecret(entry.slice(at + 1).trim());
    if (typeof key === "string") {
      refused.add(clientId);
      return void problems.push(`WEBHOOK_SECRETS: client "${clientId}": ${key}`);
    }
    if (secrets.has(clientId)) return void problems.push(`WEBHOOK_SECRETS: client "${clientId}" has more than one secret`);
    // A shared secret would let one tenant's receiver sign requests another's accepts.
    const owner = [...secrets].find(([, other]) => other.equals(key))?.[0];
    if (owner !== undefined) problems.push(`WEBHOOK_SECRETS: clients "${owner}" and "${clientId}" have the same secret: each client needs its own`);
    secrets.set(clientId, key);
  });
  return { secrets, refused };
}

/** parseWebhookSecret: the key bytes of `whsec_<base64>`, or what is wrong with it (never quoting it). */
export function parseWebhookSecret(text: string): Buffer | string {
  if (!text.startsWith("whsec_")) return "the secret must start with whsec_ (whsec_<base64 of 24-64 random bytes>)";
  const base64 = text.slice("whsec_".length);
  const key = Buffer.from(base64, "base64");
  // Buffer.from skips what is not base64; a secret that does not round-trip was mistyped.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || key.toString("base64").replace(/=+$/, "") !== base64.replace(/=+$/, "")) {
    return "the part after whsec_ is not base64";
  }
  if (key.length < minSecretBytes || key.length > maxSecretBytes) return `the secret must be ${minSecretBytes}-${maxSecretBytes} bytes, base64 (it is ${key.length})`;
  return key;
}

function webhookUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "the hook is not a URL: write https://host[:port]/path";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "the hook must be an http:// or https:// URL";
  // The signature authenticates the service to the receiver; credentials in a URL end up in places a secret must not.
  if (url.username || url.password) return "the hook URL must not carry a user name or password (receivers check the signature instead)";
  if (url.hash) return "the hook URL must not have a #fragment";
  return undefined;
}
