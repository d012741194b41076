import { ConnectError } from "@connectrpc/connect";
import { deleteCookieSession, signIn, validateCookieSession, type RestAnswer } from "./cookie-session-calls.js";
import { loadPageSettings } from "./page-settings.js";
import { createSessionHolderClients } from "./session-holder-clients.js";
import { show } from "./show.js";

const settings = await loadPageSettings();
show("page-origin", location.origin);
show("service-url", settings.serviceUrl);
const clients = settings.token ? createSessionHolderClients(settings.serviceUrl, settings.token) : undefined;
let sessionId = "";

// Each Connect call reports the request id the service answered with (an exposed CORS header).
const callOptions = { onHeader: (h: Headers) => show("request-id", h.get("x-request-id") ?? "(not exposed)") };

async function refreshStatus() {
  if (!clients) return show("status", "no token: open this page with #token=<session token>", "error");
  const status = await clients.authStatus.getAuthStatus({}, callOptions);
  if (status.valid) show("status", `valid · ${status.session?.remainingSeconds ?? 0} s left`);
  else show("status", `invalid · ${status.message ?? ""}`, "error");
  return status.valid;
}

async function findSessionId() {
  // The token's own session: GET /api/v1/session-storage/current with the Bearer token alone.
  ({ id: sessionId } = await clients!.sessionStorage.getCurrentSession({}, callOptions));
  show("session-id", sessionId);
}

// One button, one call: any error is shown where its result would be.
function onClick(button: string, output: string, action: () => Promise<void>) {
  document.getElementById(button)!.addEventListener("click", () => {
    show(output, "…");
    action().catch((e: unknown) => show(output, `error · ${ConnectError.from(e).message}`, "error"));
  });
}

onClick("refresh-status", "status", async () => void (await refreshStatus()));
onClick("touch", "touch-result", async () => {
  const { response } = await clients!.clientSessions.touchClientSession({ sessionId }, callOptions);
  show("touch-result", `touched · ${response?.status} · last active ${response?.lastActiveAt ? new Date(Number(response.lastActiveAt.seconds) * 1000).toISOString() : "?"}`);
});
onClick("fetch-jwt", "jwt", async () => {
  const { jwt } = await clients!.clientSessions.createSessionToken({ sessionId }, callOptions);
  show("jwt", jwt);
});
onClick("end", "end-result", async () => {
  const { response } = await clients!.clientSessions.endClientSession({ sessionId }, callOptions);
  show("end-result", `ended · ${response?.status}`);
  await refreshStatus();
});

const showCookie = ({ status, body }: RestAnswer) =>
  show("cookie", `${status} · ${body.message ?? ""}${body.data?.userId ? ` · user ${body.data.userId}` : ""}`, status < 300 ? "ok" : "error");
onClick("sign-in", "cookie", async () => showCookie(await signIn()));
onClick("validate-cookie", "cookie", async () => showCookie(await validateCookieSession(settings.serviceUrl)));
onClick("delete-cookie", "cookie", async () => showCookie(await deleteCookieSession(settings.serviceUrl)));

try {
  if (clients && (await refreshStatus())) await findSessionId();
} catch (e) {
  show("status", `error · ${ConnectError.from(e).message}`, "error");
}
document.body.dataset.ready = "true";
