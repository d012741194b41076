/** What one POST came to: a 2xx, or a status or error to retry on. */
export type PostOutcome = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly status?: number; readonly error: string };

/**
 * postWebhook makes one attempt: POST `body` with `headers`, answered 2xx
 * within `timeoutMs` (to the response headers) or it failed. Redirects are
 * failures, not followed: a hook's URL is configured, not discovered.
 * `signal` (shutdown, lease lost) ends it early.
 */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal): Promise<PostOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.any([signal, timeout]) });
    // The body says nothing we use; dropping it frees the connection.
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (e) {
    if (timeout.aborted && !signal.aborted) return { ok: false, error: `no response within ${timeoutMs} ms` };
    // fetch's own message is "fetch failed"; the cause says why (ECONNREFUSED…) without the URL's path or query.
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, error: cause?.code ?? cause?.message ?? (e as Error).message };
  }
}
