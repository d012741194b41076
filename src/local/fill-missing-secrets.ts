import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { apiClientSecretProblem } from "../config/api-client-secret-rule.js";

export type SecretName = "API_CLIENTS" | "TOKEN_ENCRYPTION_KEYS" | "TOKEN_HMAC_KEY" | "JWT_SIGNING_KEYS";

type Env = Record<string, string | undefined>;

export interface FilledSecrets {
  /** The environment with every missing secret filled in from the file. */
  readonly env: Env;
  /** The secrets taken from the file (generated now or by an earlier start). */
  readonly fromFile: readonly SecretName[];
  /** The file's absolute path. */
  readonly file: string;
}

/**
 * fillMissingSecrets gives each of `names` that `env` does not set a value
 * kept in `file` (JSON, mode 0600), generating it the first time, so that
 * restarts keep reading the tokens and JWTs of earlier runs. Values set in
 * `env` always win and are never written to the file.
 */
export function fillMissingSecrets(env: Env, file: string, names: readonly SecretName[]): FilledSecrets {
  const absolute = path.resolve(file);
  const stored = existsSync(absolute) ? readSecretsFile(absolute) : {};
  const missing = names.filter((name) => !env[name]);
  const generated = missing.filter((name) => typeof stored[name] !== "string" || stored[name] === "");
  if (generated.length > 0) {
    for (const name of generated) stored[name] = generate(name);
    mkdirSync(path.dirname(absolute), { recursive: true, mode: 0o700 });
    // Written whole and renamed, so a crash never leaves half a key file.
    const temporary = `${absolute}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(stored, null, 2), { mode: 0o600 });
    renameSync(temporary, absolute);
  }
  if (missing.length > 0) chmodSync(absolute, 0o600);
  const filled: Env = { ...env };
  for (const name of missing) filled[name] = stored[name];
  return { env: filled, fromFile: missing, file: absolute };
}

function readSecretsFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new Error(`${file} is not valid JSON: fix or remove it`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object`);
  return parsed as Record<string, string>;
}

function generate(name: SecretName): string {
  switch (name) {
    case "API_CLIENTS":
      return `local-client:${newApiClientSecret()}`;
    case "TOKEN_ENCRYPTION_KEYS":
      return `k1:${randomBytes(32).toString("base64")}`;
    case "TOKEN_HMAC_KEY":
      return randomBytes(32).toString("base64");
    case "JWT_SIGNING_KEYS": {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      return JSON.stringify([{ ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "ES256", use: "sig" }]);
    }
  }
}

/** 43 base64url characters (256 bits); drawn again in the vanishing case that it breaks the start-up rule. */
function newApiClientSecret(): string {
  for (;;) {
    const secret = randomBytes(32).toString("base64url");
    if (apiClientSecretProblem(secret) === undefined) return secret;
  }
}
