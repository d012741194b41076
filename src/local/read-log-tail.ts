import { closeSync, openSync, readSync, statSync } from "node:fs";

/** logSize is `file`'s current length (0 when absent): where what is written next begins. */
export function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * readLogTail is the last `lines` lines written to `file` after byte `from`
 * (at most 16 KiB of them), indented for an error message; "" when none.
 */
export function readLogTail(file: string, from: number, lines = 15): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const end = statSync(file).size;
    const start = Math.max(from, end - 16_384);
    const buffer = Buffer.alloc(Math.max(0, end - start));
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString("utf8").split("\n").filter((l) => l.trim() !== "").slice(-lines).map((l) => `  ${l}`).join("\n");
  } finally {
    closeSync(fd);
  }
}
