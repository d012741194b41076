import { spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { spawnOn } from "./children.js";
import { freePort, waitForPort } from "./net-wait.js";

const entry = "dist/src/main.js";

const newest = (dir: string): number =>
  Math.max(0, ...readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => statSync(path.join(e.parentPath, e.name)).mtimeMs));

/** ensureBuild runs `npm run build` when dist/ is missing or older than src/ or gen/: the bench measures what production runs. */
export function ensureBuild(): void {
  if (existsSync(entry) && statSync(entry).mtimeMs >= Math.max(newest("src"), newest("gen"))) return;
  console.error(`${entry} missing or older than src/: npm run build`);
  const build = spawnSync("npm", ["run", "build"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("npm run build failed");
}

export interface Service {
  readonly pid: number;
  readonly port: number;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** startService runs the service as production does (`node dist/src/main.js`), pinned to core 0. */
export async function startService(redisUrl: string, dataDir: string): Promise<Service> {
  const port = await freePort();
  const clientId = "bench";
  const clientSecret = randomBytes(24).toString("base64url");
  const jwk = { ...generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" }), kid: "bench" };
  // The flags `npm start` runs it with (package.json).
  const child = spawnOn(0, process.execPath, ["--enable-source-maps", "--max-semi-space-size=32", entry], {
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL: redisUrl,
      HOST: "127.0.0.1",
      PORT: String(port),
      API_CLIENTS: `${clientId}:${clientSecret}`,
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString("base64")}`,
      TOKEN_HMAC_KEY: randomBytes(32).toString("base64"),
      JWT_SIGNING_KEYS: JSON.stringify([jwk]),
      LOG_LEVEL: "warn",
      MAX_SESSIONS_PER_USER: "1000",
      DATA_DIR: dataDir,
      // The token format replicas mint once none of the previous release runs
      // (its default is 1 for rolling upgrades; README "Redis key schema").
      TOKEN_FORMAT: "2",
      // BENCH_SERVICE_ENV='{"METRICS_PORT":"off"}': what a setting costs on the hot path.
      ...(JSON.parse(process.env.BENCH_SERVICE_ENV ?? "{}") as Record<string, string>),
    },
  });
  await waitForPort(port, child, "the service");
  return { pid: child.pid!, port, clientId, clientSecret };
}
