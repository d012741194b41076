import { readFileSync, renameSync, writeFileSync } from "node:fs";

/** readRecordedPort is the port kept in `file`, or undefined when there is none (a first start). */
export function readRecordedPort(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${file} must hold a port number, not ${JSON.stringify(text)}: fix or remove it`);
  return port;
}

/** recordPort keeps `port` in `file`, so later starts use it again and clients configured with it keep working. */
export function recordPort(file: string, port: number): void {
  const draft = `${file}.${process.pid}.tmp`;
  writeFileSync(draft, `${port}\n`, { mode: 0o600 });
  renameSync(draft, file);
}
