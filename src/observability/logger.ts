import { pino, type Logger } from "pino";

/**
 * Paths pino censors in every line. Tokens, cookies, Authorization and
 * ClientSecret must never reach a log, whatever object carries them.
 */
const redactedPaths = [
  "token", "*.token", "jwt", "*.jwt", "authorization", "*.authorization", "cookie", "*.cookie",
  "clientsecret", "*.clientsecret", "ClientSecret", "*.ClientSecret", "secret", "*.secret",
  "headers.authorization", "headers.cookie", "headers.clientsecret", "headers[\"set-cookie\"]",
  "req.headers.authorization", "req.headers.cookie", "req.headers.clientsecret",
];

/**
 * createLogger writes JSON lines to `destination`, or to stdout. Stdout is
 * written asynchronously: one line per call would otherwise be one write(2)
 * per call on the hot path; lines that pile up while a write is under way go
 * out together, and pino flushes what is left when the process exits.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: "secure-session-storage" }, redact: { paths: redactedPaths, censor: "[redacted]" } },
    (destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false }),
  );
}

export type { Logger };
