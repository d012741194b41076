import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, test } from "vitest";

// The real entry point as a new user runs it: a child process of `tsx src/main.ts`.

const dir = mkdtempSync(path.join(os.tmpdir(), "sss-main-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

test("a local run starts its own Redis, generates secrets, serves, and stops cleanly on SIGTERM", async () => {
  const p = run({ PORT: "0", HOST: "127.0.0.1", DATA_DIR: dir });
  let port: number | undefined;
  for (let i = 0; i < 200 && port === undefined; i++) {
    const match = /"port":(\d+),"host"/.exec(p.output());
    if (match) port = Number(match[1]);
    else await new Promise((r) => setTimeout(r, 100));
  }
  expect(port, p.output()).toBeDefined();
  const secretsFile = path.join(dir, "secrets.json");
  expect(p.output()).toContain(path.resolve(secretsFile));
  expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
  const secrets = JSON.parse(readFileSync(secretsFile, "utf8")) as Record<string, string>;
  const [id, secret] = secrets.API_CLIENTS!.split(":");

  const saved = await fetch(`http://127.0.0.1:${port}/api/v1/session-storage`, {
    method: "POST",
    headers: { ClientID: id!, ClientSecret: secret!, "content-type": "application/json" },
    body: JSON.stringify({ user_id: "local-user" }),
  });
  expect(saved.status).toBe(200);
  const { token } = (await saved.json()) as { token: string };

  p.child.kill("SIGTERM");
  expect(await p.exited).toBe(0);
  expect(p.output()).toContain("stopped");
  // Secrets and tokens never reach the output.
  expect(p.output()).not.toContain(secret!);
  expect(p.output()).not.toContain(token);
}, 30_000);

test("a bad configuration stops the start with a message naming each variable", async () => {
  const p = run({ REDIS_URL: "redis://127.0.0.1:1", PORT: "http", API_CLIENTS: "a:short" });
  expect(await p.exited).toBe(1);
  const out = p.output();
  expect(out).toContain("PORT");
  expect(out).toContain("API_CLIENTS");
  expect(out).toContain("TOKEN_ENCRYPTION_KEYS is required");
  expect(out).not.toMatch(/\n\s+at /);
}, 30_000);
