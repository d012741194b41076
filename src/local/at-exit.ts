// Last-resort clean-ups, run synchronously when the process exits in any way
// Node still sees: process.exit, the end of the event loop, an uncaught error.
// Only SIGKILL (and a crash of Node itself) skips them; the next start handles that.
const cleanups = new Set<() => void>();
process.once("exit", () => {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // Exiting anyway: one failed clean-up must not skip the others.
    }
  }
});

/** atExit runs `cleanup` (synchronous) when the process exits; the returned function cancels that. */
export function atExit(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}
