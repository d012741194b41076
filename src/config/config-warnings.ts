import type { Config } from "./config.js";

/**
 * configWarnings lists settings that are valid but probably not what was
 * meant; the service logs each at start so the surprise comes early.
 */
export function configWarnings(config: Pick<Config, "corsAllowedOrigins" | "corsAllowedHeaders"> & Partial<Pick<Config, "webhooks">>): string[] {
  const warnings: string[] = [];
  if (config.corsAllowedOrigins.includes("*")) {
    warnings.push(
      'CORS_ALLOWED_ORIGINS includes "*": any web page may call this service, but browsers send no cookies to a "*" origin, ' +
        "so credentialed calls such as the cookie API (/api/session/…) work only from origins listed by name",
    );
  }
  const credentialHeaders = config.corsAllowedHeaders.filter((h) => h === "clientid" || h === "clientsecret");
  if (credentialHeaders.length > 0) {
    warnings.push(
      `CORS_ALLOWED_HEADERS allows ${credentialHeaders.join(", ")} from browsers: an API client secret in front-end code ` +
        "is readable by every visitor and acts for the whole tenant; keep it in back ends",
    );
  }
  // Signed, so not forgeable; but session and user ids would cross the network readable by anyone on the path.
  for (const hook of config.webhooks ?? []) {
    const host = new URL(hook.url).hostname;
    if (hook.url.startsWith("http://") && host !== "localhost" && host !== "127.0.0.1" && host !== "[::1]") {
      warnings.push(`WEBHOOKS: the hook of client "${hook.clientId}" is plain http:// to ${host}: its events (session and user ids) travel unencrypted; use https://`);
    }
  }
  return warnings;
}
