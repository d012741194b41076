import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { atExit } from "./at-exit.js";
import { processAlive, processCommand, processStartTime } from "./process-liveness.js";

/** DataDirectoryLock is a local run's exclusive hold on its data directory. */
export interface DataDirectoryLock {
  readonly file: string;
  /** Gives the directory up (also done at exit); a no-op the second time. */
  release(): void;
}

interface Holder {
  pid: number;
  startTime?: string;
}

/**
 * lockDataDirectory makes this process the only local run on `dataDir`: it
 * creates `dataDir/local-run.lock` holding its pid, and refuses while another
 * live process holds it. A lock left by a process that is gone (SIGKILL) is
 * taken over. Two services on one directory would otherwise start two
 * redis-servers on one AOF directory, and one's rewrite loses the other's writes.
 */
export function lockDataDirectory(dataDir: string): DataDirectoryLock {
  const file = path.join(dataDir, "local-run.lock");
  const me: Holder = { pid: process.pid, startTime: processStartTime(process.pid) };
  // Written whole under another name, then linked into place: link() creates
  // the lock only if it is absent (like O_EXCL), and a reader never sees it half written.
  const draft = `${file}.${process.pid}.tmp`;
  writeFileSync(draft, JSON.stringify(me), { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt >= 5) throw e;
      }
      const seen = readHolder(file);
      if (!seen) continue; // released meanwhile
      const { holder, inode } = seen;
      if (holder && holder.pid !== process.pid && processAlive(holder.pid, holder.startTime)) {
        const command = processCommand(holder.pid);
        throw new Error(
          `DATA_DIR ${dataDir} is in use by another local run (pid ${holder.pid}${command ? `: ${command}` : ""}, lock ${file}). ` +
            "Stop that service first, or give this one its own DATA_DIR.",
        );
      }
      // Its holder is gone: remove that very file (not one a racing start just created) and try again.
      if (inodeOf(file) === inode) unlinkIfPresent(file);
    }
  } finally {
    unlinkIfPresent(draft);
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    cancel();
    // Only our own lock: never one another start took over after us.
    if (readHolder(file)?.holder?.pid === process.pid) unlinkIfPresent(file);
  };
  const cancel = atExit(release);
  return { file, release };
}

/** The lock's holder (undefined when unreadable, taken as stale) and inode; undefined when there is no lock. */
function readHolder(file: string): { holder: Holder | undefined; inode: number } | undefined {
  const inode = inodeOf(file);
  if (inode === undefined) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as Partial<Holder>;
    const holder = Number.isInteger(parsed.pid) && parsed.pid! > 0 ? { pid: parsed.pid!, startTime: parsed.startTime } : undefined;
    return { holder, inode };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { holder: undefined, inode };
  }
}

function inodeOf(file: string): number | undefined {
  try {
    return statSync(file).ino;
  } catch {
    return undefined;
  }
}

function unlinkIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}
