import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { createRouterTransport, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { NodeServerRequest, NodeServerResponse } from "./transport/node-http-types.js";
import type { Logger } from "pino";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { ClientSessionsService } from "../gen/sessionstorage/v1/client_sessions_service_pb.js";
import { CookieSessionService } from "../gen/sessionstorage/v1/cookie_session_service_pb.js";
import { JwksService } from "../gen/sessionstorage/v1/jwks_service_pb.js";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { SessionsService } from "../gen/sessionstorage/v1/sessions_service_pb.js";
import { createApiClientVerifier } from "./auth/api-client-verifier.js";
import { createAuthInterceptor } from "./auth/auth-interceptor.js";
import type { Config } from "./config/config.js";
import { createSessionCore, type SessionCore } from "./core/session-core.js";
import { createJwtIssuer } from "./crypto/jwt-issuer.js";
import { createKeyedHash } from "./crypto/keyed-hash.js";
import { createPageTokenCodec } from "./crypto/page-token-codec.js";
import { createTokenCipher } from "./crypto/token-cipher.js";
import { createObservabilityInterceptor } from "./observability/observability-interceptor.js";
import { createRestHandler } from "./rest/rest-handler.js";
import { buildRestRoutes } from "./rest/rest-routes.js";
import { createAuthStatusService } from "./services/auth-status-service.js";
import { createClientSessionsService } from "./services/client-sessions-service.js";
import { createCookieSessionService } from "./services/cookie-session-service.js";
import { createHealthService, type HealthService } from "./services/health-service.js";
import { createJwksService } from "./services/jwks-service.js";
import { registerReflection } from "./services/register-reflection.js";
import { createSessionStorageService } from "./services/session-storage-service.js";
import { createSessionsService } from "./services/sessions-service.js";
import type { RedisClient } from "./store/redis-client.js";
import { createRedisSessionStore } from "./store/redis-session-store.js";
import { createCorsHandler } from "./transport/cors.js";
import { createOnePortServer } from "./transport/one-port-server.js";

export interface App {
  /** The listening socket's server; call listen() on it. */
  readonly server: net.Server;
  readonly core: SessionCore;
  readonly health: HealthService;
  /** Graceful stop: NOT_SERVING, stop accepting, finish in-flight calls, quit Redis. */
  close(): Promise<void>;
}

/**
 * createApp builds the whole service on one port without listening, so tests
 * start it on port 0. gRPC, gRPC-Web and Connect are served by connect-node;
 * everything else falls back to the REST transcoder, which calls the same
 * implementations through the same interceptors.
 */
export function createApp(config: Config, deps: { redis: RedisClient; logger: Logger }): App {
  const { redis, logger } = deps;
  const store = createRedisSessionStore(redis);
  const core = createSessionCore({
    store,
    cipher: createTokenCipher(config.tokenEncryptionKeys),
    tokenHash: createKeyedHash(config.tokenHmacKey, "token-lookup"),
    config,
  });

  const jwt = createJwtIssuer(config.jwtSigningKeys, config.jwtIssuer);
  const pageTokens = createPageTokenCodec(createKeyedHash(config.tokenHmacKey, "page-token"));

  const health = createHealthService();
  const services: DescService[] = [
    SessionStorageService,
    SessionsService,
    AuthStatusService,
    ClientSessionsService,
    CookieSessionService,
    JwksService,
  ];
  // Reflection serves the files the services are declared in.
  const files: DescFile[] = [...services.map((service) => service.file), file_grpc_health_v1_health];
  // Health follows Redis: a session service without its store cannot serve.
  // A connected Redis can still hang: a periodic PING (which times out) catches that.
  let pingAnswered = true;
  const storeReady = () => redis.status === "ready" && pingAnswered;
  const setHealth = () => {
    const status = storeReady() ? "SERVING" : "NOT_SERVING";
    health.setStatus("", status);
    for (const s of services) health.setStatus(s.typeName, status);
  };
  setHealth();
  for (const event of ["ready", "close", "end", "reconnecting", "error"]) redis.on(event, setHealth);
  const probe = setInterval(() => {
    redis.ping().then(
      () => (pingAnswered = true),
      () => (pingAnswered = false),
    ).finally(setHealth);
  }, 5_000).unref();

  // Built once; gRPC, Connect and REST all reach these same objects.
  const sessionStorage = createSessionStorageService(core);
  const sessions = createSessionsService(core, pageTokens);
  const authStatus = createAuthStatusService(core);
  const clientSessions = createClientSessionsService({
    core,
    jwt,
    jwtTtlSeconds: config.jwtTtlSeconds,
    templates: config.jwtTemplates,
  });
  const cookieSessions = createCookieSessionService(core, {
    secure: config.cookieSecure,
    domain: config.cookieDomain,
    allowedOrigins: config.corsAllowedOrigins,
  });
  const jwks = createJwksService(jwt);
  // The services with documented REST paths.
  const documentedRoutes = (router: ConnectRouter) => {
    router.service(SessionStorageService, sessionStorage);
    router.service(SessionsService, sessions);
    router.service(AuthStatusService, authStatus);
    router.service(ClientSessionsService, clientSessions);
    router.service(CookieSessionService, cookieSessions);
    router.service(JwksService, jwks);
  };
  const routes = (router: ConnectRouter) => {
    documentedRoutes(router);
    registerReflection(router, files);
    health.register(router);
  };

  const auth = createAuthInterceptor(createApiClientVerifier(config.apiClients));
  const interceptors: Interceptor[] = [createObservabilityInterceptor(logger, () => !storeReady()), auth];
  // REST calls: the transcoder's access line is their one log line.
  const restInterceptors: Interceptor[] = [createObservabilityInterceptor(logger, () => !storeReady(), { logCalls: false }), auth];

  const rest = createRestHandler({
    routes: buildRestRoutes(services),
    transport: createRouterTransport(documentedRoutes, { router: { interceptors: restInterceptors } }),
    logger,
    maxBodyBytes: config.maxBodyBytes,
  });
  const connect = connectNodeAdapter({ routes, interceptors, fallback: rest, readMaxBytes: config.maxBodyBytes });
  const cors = createCorsHandler(config.corsAllowedOrigins);
  // In-flight responses, so shutdown can wait for them to finish.
  let closing: Promise<void> | undefined;
  const inFlight = new Set<NodeServerResponse>();
  let drained: (() => void) | undefined;
  const handler = (req: NodeServerRequest, res: NodeServerResponse) => {
    inFlight.add(res);
    res.once("close", () => {
      inFlight.delete(res);
      if (inFlight.size === 0) drained?.();
    });
    if (closing) endKeepAlive(res);
    if (!cors(req, res)) connect(req, res);
  };

  const h1 = http.createServer({
    requestTimeout: config.httpRequestTimeoutMs,
    headersTimeout: config.httpHeadersTimeoutMs,
    // Node enforces both timeouts on this tick; its 30 s default would stretch short ones.
    connectionsCheckingInterval: Math.min(1000, config.httpHeadersTimeoutMs),
  }, handler);
  const h2 = http2.createServer({}, handler);
  const h2Sessions = new Set<http2.ServerHttp2Session>();
  const idleMs = config.http2IdleTimeoutMs;
  h2.on("session", (session: http2.ServerHttp2Session) => {
    h2Sessions.add(session);
    session.once("close", () => h2Sessions.delete(session));
    // Idle means no traffic and no open stream: a long-lived stream (a health
    // Watch) keeps its session. Node's session timer fires once, so it is
    // re-armed whenever the last stream ends.
    let openStreams = 0;
    if (idleMs > 0) {
      session.setTimeout(idleMs);
      session.on("timeout", () => openStreams === 0 && session.close());
    }
    session.on("stream", (stream: http2.ServerHttp2Stream) => {
      openStreams++;
      stream.once("close", () => {
        if (--openStreams === 0 && idleMs > 0 && !session.closed && !session.destroyed) session.setTimeout(idleMs);
      });
    });
  });
  const server = createOnePortServer(h1, h2, { firstBytesTimeoutMs: config.httpHeadersTimeoutMs });

  return {
    server,
    core,
    health,
    close() {
      closing ??= (async () => {
        clearInterval(probe);
        health.shutdown();
        server.close();
        // HTTP/2: GOAWAY, open streams finish. HTTP/1.1: idle keep-alives close now.
        for (const session of h2Sessions) session.close();
        h1.closeIdleConnections();
        for (const res of inFlight) endKeepAlive(res);
        const idle = inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
        const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceMs).unref());
        await Promise.race([idle, grace]);
        h1.closeAllConnections();
        h1.close(); // stops its connection-checking timer
        for (const session of h2Sessions) session.destroy();
        await store.close();
      })();
      return closing;
    },
  };
}

// While shutting down, HTTP/1.1 clients are told not to reuse the connection.
function endKeepAlive(res: NodeServerResponse) {
  if (res instanceof http.ServerResponse && !res.headersSent) res.setHeader("connection", "close");
}
