import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { exportJWK, generateKeyPair } from "jose";

/** LocalEnvironment is what a local run adds: a Redis server and generated secrets. */
export interface LocalEnvironment {
  readonly env: Record<string, string | undefined>;
  readonly secretsFile: string;
  stop(): Promise<void>;
}

/**
 * prepareLocalEnvironment is for a run without REDIS_URL: it starts a local
 * redis-server (append-only file on) with its data in `dataDir`, and fills in
 * missing secrets from `dataDir/secrets.json`, generating them the first
 * time. Production sets REDIS_URL, and then nothing is generated.
 */
export async function prepareLocalEnvironment(
  env: Record<string, string | undefined>,
  dataDir: string,
  log: (message: string) => void,
): Promise<LocalEnvironment> {
  const redisDir = path.join(dataDir, "redis");
  mkdirSync(redisDir, { recursive: true, mode: 0o700 });
  const secretsFile = path.join(dataDir, "secrets.json");
  const secrets = existsSync(secretsFile)
    ? (JSON.parse(readFileSync(secretsFile, "utf8")) as Record<string, string>)
    : await generateSecrets();
  writeFileSync(secretsFile, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  log(`local run: secrets (API client credentials, keys) are in ${path.resolve(secretsFile)}`);

  const port = Number(env.LOCAL_REDIS_PORT ?? (await freePort()));
  const redis = await startRedis(redisDir, port);
  log(`local run: redis-server on 127.0.0.1:${port}, data in ${path.resolve(redisDir)}`);
  return {
    env: { ...secrets, ...definedOnly(env), REDIS_URL: `redis://127.0.0.1:${port}`, COOKIE_SECURE: env.COOKIE_SECURE ?? "false" },
    secretsFile,
    async stop() {
      redis.kill("SIGTERM");
      await new Promise((resolve) => redis.once("exit", resolve));
    },
  };
}

async function generateSecrets(): Promise<Record<string, string>> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: "ES256", use: "sig" };
  return {
    API_CLIENTS: `local-client:${randomBytes(24).toString("base64url")}`,
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
    TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
    JWT_SIGNING_KEYS: JSON.stringify([jwk]),
  };
}

function definedOnly(env: Record<string, string | undefined>) {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

/** startRedis runs redis-server in the foreground as a child and waits until it accepts connections. */
export async function startRedis(dir: string, port: number, appendOnly = true): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", appendOnly ? "yes" : "no", "--save", "", "--protected-mode", "yes"],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once("error", (e) => reject(new Error(`cannot start redis-server (is it installed? apt-get install redis-server): ${e.message}`)));
    const deadline = Date.now() + 10_000;
    const attempt = () => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve();
      });
      socket.on("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not start on port ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
  return child;
}
