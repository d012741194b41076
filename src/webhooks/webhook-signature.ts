import { createHmac } from "node:crypto";

/**
 * signWebhook is the Standard Webhooks (https://www.standardwebhooks.com)
 * `webhook-signature` value: "v1," + base64 HMAC-SHA-256, keyed with the
 * secret's bytes, of "<webhook-id>.<webhook-timestamp>.<body>".
 */
export function signWebhook(secret: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac("sha256", secret).update(`${id}.${timestampSeconds}.${body}`).digest("base64")}`;
}
