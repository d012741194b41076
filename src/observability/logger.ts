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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    { level, base: { service: "secure-session-storage" }, redact: { paths: redactedPaths, censor: "[redacted]" } },
    destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };
