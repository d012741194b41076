import { spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, inject, test } from "vitest";

// The real entry point as production runs it: `node dist/src/main.js`, the
// output of `npm run build` (./scripts/test.sh builds before the tests).
const entry = "dist/src/main.js";

/** The newest modification time of any file under `dir`. */
const newest = (dir: string): number =>
  Math.max(0, ...readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => statSync(path.join(e.parentPath, e.name)).mtimeMs));

/** Why the build cannot be tested, if it cannot: a missing or stale build fails every test loudly instead of testing old code or skipping. */
function buildProblem(): string | undefined {
  if (!existsSync(entry)) return `${entry} is missing: run \`npm run build\` first (./scripts/test.sh does)`;
  const built = statSync(entry).mtimeMs;
  if (newest("src") > built || newest("gen") > built) return `${entry} is older than src/ or gen/: run \`npm run build\` first (./scripts/test.sh does)`;
  return undefined;
}

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sss-main-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>) {
  const problem = buildProblem();
  if (problem) throw new Error(problem);
  const child = spawn(process.execPath, ["--enable-source-maps", entry], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

type Run = ReturnType<typeof run>;

async function listeningPort(p: Run): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const match = /"port":(\d+),"host"/.exec(p.output());
    if (match) return Number(match[1]);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not listening:\n${p.output()}`);
}

/** The exit code, or undefined (and the process killed) when it is still running after `ms`. */
async function exitCode(p: Run, ms = 20_000): Promise<number | null | undefined> {
  const code = await Promise.race([p.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
  if (code === undefined) p.child.kill("SIGKILL");
  return code;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

async function save(port: number, id: string, secret: string, userId: string) {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/session-storage`, {
    method: "POST",
    headers: { ClientID: id, ClientSecret: secret, "content-type": "application/json" },
    body: JSON.stringify({ user_id: userId }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { id: string; token: string };
}

test("a local run starts its own Redis, generates secrets, serves, and stops cleanly on SIGTERM", async () => {
  const dir = tempDir();
  const p = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dir });
  const port = await listeningPort(p);
  const secretsFile = path.join(dir, "secrets.json");
  expect(p.output()).toContain(path.resolve(secretsFile));
  expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
  const secrets = JSON.parse(readFileSync(secretsFile, "utf8")) as Record<string, string>;
  const [id, secret] = secrets.API_CLIENTS!.split(":");

  const { token } = await save(port, id!, secret!, "local-user");

  p.child.kill("SIGTERM");
  expect(await p.exited).toBe(0);
  expect(p.output()).toContain("stopped");
  // Secrets and tokens never reach the output.
  expect(p.output()).not.toContain(secret!);
  expect(p.output()).not.toContain(token);
}, 30_000);

test("with only PORT, REDIS_URL and API_CLIENTS it serves, keeping generated keys in DATA_DIR across restarts", async () => {
  const dir = tempDir();
  const id = `main-${randomBytes(4).toString("hex")}`;
  const secret = randomBytes(24).toString("base64url");
  const env = { PORT: "0", HOST: "127.0.0.1", REDIS_URL: inject("redisUrl"), API_CLIENTS: `${id}:${secret}`, DATA_DIR: dir };
  const headers = { ClientID: id, ClientSecret: secret };
  const secretsFile = path.resolve(dir, "secrets.json");

  const first = run(env);
  const port = await listeningPort(first);
  const saved = await save(port, id, secret, "configured-user");
  const got = await fetch(`http://127.0.0.1:${port}/api/v1/session-storage/${saved.id}`, { headers });
  expect(got.status).toBe(200);
  expect(first.output()).toMatch(/"level":40.*TOKEN_ENCRYPTION_KEYS, TOKEN_HMAC_KEY, JWT_SIGNING_KEYS/);
  expect(first.output()).toContain(secretsFile);
  expect(first.output()).toContain("more than one instance");
  expect(first.output()).not.toContain("redis-server on"); // no local Redis
  expect(existsSync(path.join(dir, "redis"))).toBe(false);
  expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
  const secrets = JSON.parse(readFileSync(secretsFile, "utf8")) as Record<string, string>;
  expect(Object.keys(secrets).sort()).toEqual(["JWT_SIGNING_KEYS", "TOKEN_ENCRYPTION_KEYS", "TOKEN_HMAC_KEY"]);
  first.child.kill("SIGTERM");
  expect(await first.exited).toBe(0);

  // The same keys again: the token saved before still decrypts and still finds its session.
  const second = run(env);
  const port2 = await listeningPort(second);
  const again = await fetch(`http://127.0.0.1:${port2}/api/v1/session-storage/${saved.id}`, { headers });
  expect(again.status).toBe(200);
  expect(((await again.json()) as { token: string }).token).toBe(saved.token);
  const status = await fetch(`http://127.0.0.1:${port2}/auth/status`, { headers: { authorization: `Bearer ${saved.token}` } });
  expect(status.status).toBe(200);
  expect(readFileSync(secretsFile, "utf8")).toBe(JSON.stringify(secrets, null, 2));
  second.child.kill("SIGTERM");
  expect(await second.exited).toBe(0);
  expect(second.output()).not.toContain(saved.token);
  expect(second.output()).not.toContain(secret);
}, 40_000);

test("a bad configuration stops the start with a message naming each variable", async () => {
  const p = run({ REDIS_URL: "redis://127.0.0.1:1", PORT: "http", API_CLIENTS: "a:short", DATA_DIR: tempDir() });
  expect(await exitCode(p)).toBe(1);
  const out = p.output();
  expect(out).toContain("PORT");
  expect(out).toContain("API_CLIENTS");
  expect(out).not.toMatch(/\n\s+at /);
}, 30_000);

test("a CORS origin with a trailing slash, or a weak or shared API client secret, stops the start naming the variable and client", async () => {
  const shared = randomBytes(24).toString("base64url");
  const p = run({
    REDIS_URL: "redis://127.0.0.1:1",
    API_CLIENTS: `acme:${shared},globex:${shared},initech:${"ab".repeat(20)}`,
    CORS_ALLOWED_ORIGINS: "http://localhost:18601/",
    DATA_DIR: tempDir(),
  });
  expect(await exitCode(p)).toBe(1);
  const out = p.output();
  expect(out).toMatch(/CORS_ALLOWED_ORIGINS: "http:\/\/localhost:18601\/" must not have a path, query or trailing slash: write http:\/\/localhost:18601/);
  expect(out).toContain('clients "acme" and "globex" have the same secret');
  expect(out).toContain('client "initech": the secret must have at least 16 distinct characters');
  expect(out).not.toContain(shared);
  expect(out).not.toContain("abababab");
  expect(out).not.toMatch(/\n\s+at /);
}, 30_000);

test('CORS_ALLOWED_ORIGINS="*" starts with a warning that credentialed calls are off', async () => {
  const id = `main-${randomBytes(4).toString("hex")}`;
  const p = run({ PORT: "0", HOST: "127.0.0.1", REDIS_URL: inject("redisUrl"), API_CLIENTS: `${id}:${randomBytes(24).toString("base64url")}`, CORS_ALLOWED_ORIGINS: "*", DATA_DIR: tempDir() });
  await listeningPort(p);
  expect(p.output()).toMatch(/"level":40[^\n]*CORS_ALLOWED_ORIGINS includes \\"\*\\"[^\n]*cookie API/);
  p.child.kill("SIGTERM");
  expect(await p.exited).toBe(0);
}, 30_000);

test("API_CLIENTS is required with REDIS_URL", async () => {
  const p = run({ REDIS_URL: "redis://127.0.0.1:1", DATA_DIR: tempDir() });
  expect(await exitCode(p)).toBe(1);
  expect(p.output()).toContain("API_CLIENTS is required");
}, 30_000);

test("JWT_SIGNING_KEYS must hold usable EC P-256 private keys", async () => {
  const jwk = (curve: string) => ({
    ...generateKeyPairSync("ec", { namedCurve: curve }).privateKey.export({ format: "jwk" }),
    kid: "k",
  });
  const good = jwk("P-256");
  const otherD = jwk("P-256").d;
  const cases: Array<[string, unknown]> = [
    ["P-384", [jwk("P-384")]],
    ["d not a key", [{ ...good, d: "AAAA" }]],
    ["public key only", [{ ...good, d: undefined }]],
    ["x/y of another key", [{ ...good, d: otherD }]],
    ["no kid", [{ ...good, kid: undefined }]],
  ];
  for (const [label, keys] of cases) {
    const p = run({
      REDIS_URL: "redis://127.0.0.1:1",
      API_CLIENTS: `client:${randomBytes(24).toString("base64url")}`,
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
      JWT_SIGNING_KEYS: JSON.stringify(keys),
      DATA_DIR: tempDir(),
    });
    expect(await exitCode(p), `${label}: ${p.output()}`).toBe(1);
    expect(p.output(), label).toMatch(/invalid configuration:[\s\S]*JWT_SIGNING_KEYS/);
    expect(p.output(), label).not.toMatch(/\n\s+at /);
  }
}, 60_000);

test("Sentinel or Cluster settings are not a local run", async () => {
  const dir = tempDir();
  const p = run({ REDIS_SENTINELS: "127.0.0.1:1", DATA_DIR: dir });
  expect(await exitCode(p)).toBe(1);
  expect(p.output()).toContain("REDIS_SENTINEL_NAME is required");
  expect(p.output()).toContain("API_CLIENTS is required");
  expect(p.output()).not.toContain("redis-server on");
  expect(existsSync(path.join(dir, "redis"))).toBe(false);
}, 30_000);

test("a local run that fails to start stops the redis-server it started", async () => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  const busyPort = (busy.address() as net.AddressInfo).port;
  const cases: Array<[string, Record<string, string>]> = [
    ["bad config", { PORT: "http" }],
    ["port in use", { PORT: String(busyPort), HOST: "127.0.0.1" }],
  ];
  try {
    for (const [label, env] of cases) {
      const redisPort = await freePort();
      const p = run({ ...env, DATA_DIR: tempDir(), LOCAL_REDIS_PORT: String(redisPort) });
      const code = await exitCode(p);
      const orphan = await accepts(redisPort);
      // Clean up an orphan so a failing run leaves nothing behind.
      if (orphan) spawnSync("redis-cli", ["-p", String(redisPort), "shutdown", "nosave"]);
      expect(p.output(), label).toContain(`redis-server on 127.0.0.1:${redisPort}`);
      expect(code, `${label}: ${p.output()}`).toBe(1);
      expect(orphan, label).toBe(false);
      expect(p.output(), label).not.toMatch(/\n\s+at /);
    }
  } finally {
    busy.close();
  }
}, 60_000);
