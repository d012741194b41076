import type { TestApp } from "./test-app.js";

/** JsonReply is an HTTP answer: its status, headers, raw text and the body parsed when it is JSON ({} otherwise). */
export interface JsonReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: Record<string, any>;
}

/** jsonCall sends `body` (when given) as JSON to one of `app`'s REST paths and reads the answer. */
export async function jsonCall(app: TestApp, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<JsonReply> {
  const res = await fetch(`${app.baseUrl}${path}`, {
    method,
    headers: body === undefined ? headers : { ...headers, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text !== "" && (res.headers.get("content-type") ?? "").includes("json");
  return { status: res.status, headers: res.headers, text, body: json ? (JSON.parse(text) as Record<string, any>) : {} };
}
