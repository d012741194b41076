import http from "node:http";
import http2 from "node:http2";
import type net from "node:net";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import { AuthStatusService } from "../gen/sessionstorage/v1/auth_status_service_pb.js";
import { ClientSessionsService } from "../gen/sessionstorage/v1/client_sessions_service_pb.js";
import { CookieSessionService } from "../gen/sessionstorage/v1/cookie_session_service_pb.js";
import { JwksService } from "../gen/sessionstorage/v1/jwks_service_pb.js";
import { SessionStorageService } from "../gen/sessionstorage/v1/session_storage_service_pb.js";
import { SessionsService } from "../gen/sessionstorage/v1/sessions_service_pb.js";
import { SessionEventsService } from "../gen/sessionstorage/v1/session_events_service_pb.js";
import { SignOutService } from "../gen/sessionstorage/v1/sign_out_service_pb.js";
import { createSessionEventLog, type SessionEventLog } from "./events/session-event-log.js";
import { createSseRoute } from "./events/sse-route.js";
import { startWebhookDeliverer } from "./webhooks/webhook-deliverer.js";
import { createWebhookLease } from "./webhooks/webhook-lease.js";
import { createSessionEventsService } from "./services/session-events-service.js";
import { createSignOutService } from "./services/sign-out-service.js";
import { createApiClientVerifier } from "./auth/api-client-verifier.js";
import { createAuthInterceptor } from "./auth/auth-interceptor.js";
import type { Config } from "./config/config.js";
import { createSessionCore, type SessionCore } from "./core/session-core.js";
import { createJwtIssuer } from "./crypto/jwt-issuer.js";
import { createKeyedHash } from "./crypto/keyed-hash.js";
import { createPageTokenCodec } from "./crypto/page-token-codec.js";
import { createTokenCipher } from "./crypto/token-cipher.js";
import { createTokenLocator } from "./crypto/token-locator.js";
import { createUnaryDispatcher } from "./dispatch/unary-dispatcher.js";
import { createCallOutcome } from "./observability/call-outcome.js";
import { createCallTracer } from "./observability/call-tracer.js";
import { instrumentRedis } from "./observability/instrument-redis.js";
import { createMetrics } from "./observability/metrics.js";
import { createMetricsRoute } from "./observability/metrics-route.js";
import { createOutageLog } from "./observability/outage-log.js";
import { createObservabilityInterceptor } from "./observability/observability-interceptor.js";
import { createOpenApiRoute } from "./rest/openapi-route.js";
import { createRestHandler } from "./rest/rest-handler.js";
import { buildRestRoutes } from "./rest/rest-routes.js";
import { createAuthStatusService } from "./services/auth-status-service.js";
import { createClientSessionsService } from "./services/client-sessions-service.js";
import { createCookieSessionService } from "./services/cookie-session-service.js";
import { followStoreHealth } from "./services/follow-store-health.js";
import { createHealthService, type HealthService } from "./services/health-service.js";
import { createJwksService } from "./services/jwks-service.js";
import { registerReflection } from "./services/register-reflection.js";
import { createSessionStorageService } from "./services/session-storage-service.js";
import { createSessionsService } from "./services/sessions-service.js";
import { duplicateRedisClient, indexSweeperConnectionName, redisCommandTimeoutMs, type RedisClient } from "./store/redis-client.js";
import { createRedisSessionStore } from "./store/redis-session-store.js";
import { startIndexSweeper } from "./store/index-sweeper.js";
import { withDeadline } from "./store/with-deadline.js";
import { createConnectUnaryHandler } from "./transport/connect-unary-handler.js";
import { createCorsHandler } from "./transport/cors.js";
import { createGrpcUnaryHandler } from "./transport/grpc-unary-handler.js";
import { limitHttp2RequestTime } from "./transport/http2-request-timeout.js";
import { http2ServerOptions } from "./transport/http2-server-options.js";
import { trackHttp2Sessions } from "./transport/http2-sessions.js";
import { createInFlight } from "./transport/in-flight.js";
import type { NodeServerRequest, NodeServerResponse } from "./transport/node-http-types.js";
import { createOnePortServer } from "./transport/one-port-server.js";
import { routeHttp2Streams } from "./transport/route-http2-streams.js";

export interface App {
  /** The listening socket's server; call listen() on it. */
  readonly server: net.Server;
  readonly core: SessionCore;
  readonly health: HealthService;
  /** The /metrics server when METRICS_PORT names a port of its own (not listening yet). */
  readonly metricsServer: http.Server | undefined;
  /** Graceful stop: NOT_SERVING, stop accepting, finish in-flight calls, quit Redis. */
  close(): Promise<void>;
}

/** The documented services and their implementations, built once. */
interface ServiceBinding {
  readonly service: DescService;
  readonly impl: ServiceImpl<DescService>;
}

/**
 * createApp builds the whole service on one port without listening, so tests
 * start it on port 0. Unary calls — gRPC, Connect and REST — run through one
 * dispatcher straight into the implementations; connect-node serves the rest
 * (streams, reflection, health, gRPC-Web, compressed or GET requests) with
 * interceptors that take the same steps.
 */
export function createApp(config: Config, deps: { redis: RedisClient; logger: Logger }): App {
  const { redis, logger } = deps;
  const metrics = config.metrics.kind === "off" ? undefined : createMetrics();
  if (metrics) instrumentRedis(redis, metrics);
  const tracer = createCallTracer({ otlpEndpoint: config.otelExporterOtlpEndpoint, serviceName: config.otelServiceName, sampling: config.otelTraceSampling });
  // Session events are written by the scripts that change sessions (src/events); undefined: off.
  const eventsRetentionMs = config.eventsEnabled ? config.eventsRetentionSeconds * 1000 : undefined;
  const events = createSessionEventLog(redis);
  // One deliverer per configured webhook; with replicas, a lease in Redis picks the one that delivers.
  const webhookPolicy = { timeoutMs: config.webhookTimeoutMs, maxAttempts: config.webhookMaxAttempts, retryBaseMs: config.webhookRetryBaseMs, retryMaxDelayMs: config.webhookRetryMaxDelayMs, leaseMs: config.webhookLeaseMs };
  const webhooks = config.webhooks.map((hook) =>
    startWebhookDeliverer({ hook, log: events, lease: withDeadline(createWebhookLease(redis, hook.clientId, config.webhookLeaseMs), redisCommandTimeoutMs), policy: webhookPolicy, logger, metrics }));
  // Every store call answers within the command timeout, however many round trips it makes.
  // REDIS_WAIT_REPLICAS: writes wait for replicas on a connection of their own, within that bound too.
  const replicaWait = config.redisWaitReplicas === 0 ? undefined : {
    replicas: config.redisWaitReplicas,
    timeoutMs: config.redisWaitTimeoutMs,
    onConnection: (client: RedisClient) => metrics && instrumentRedis(client, metrics),
  };
  const store = withDeadline(createRedisSessionStore(redis, { replicaWait, eventsRetentionMs }), redisCommandTimeoutMs);
  // Drops tenant index entries of sessions that expired, with no request needed.
  // A pass reads up to buckets × batch sessions (8,000 at the defaults): on a
  // connection of its own they never queue ahead of calls on the shared one.
  const sweeperRedis = duplicateRedisClient(redis, indexSweeperConnectionName);
  // An outage is reported by the main connection's health; a pass that fails is tried again.
  sweeperRedis.on("error", () => undefined);
  if (metrics) instrumentRedis(sweeperRedis, metrics);
  const sweeper = startIndexSweeper(sweeperRedis, { tenants: config.apiClients.map((c) => c.id), intervalMs: config.indexSweepIntervalMs, batch: config.indexSweepBatch, eventsRetentionMs });
  const core = createSessionCore({
    store,
    cipher: createTokenCipher(config.tokenEncryptionKeys),
    // 128 bits: unique enough for lookups, and short in every key and hash.
    tokenHash: createKeyedHash(config.tokenHmacKey, "token-lookup", 16),
    tokenLocator: createTokenLocator(config.tokenEncryptionKeys, config.tokenFormat),
    config,
    observer: metrics,
  });

  const health = createHealthService();
  const bindings = createServiceBindings(config, core, events);
  const services = bindings.map((b) => b.service);
  const storeHealth = followStoreHealth(redis, health, services);
  const isStoreDown = () => !storeHealth.isReady();
  // An outage is logged as it starts and ends, with failed calls summarized in between.
  const outage = createOutageLog(logger);
  storeHealth.onChange(outage.storeChanged);
  const onUnavailable = (cause: unknown) => {
    outage.callUnavailable(cause);
    storeHealth.check();
  };

  const verifier = createApiClientVerifier(config.apiClients);
  const dispatcher = createUnaryDispatcher({ services: bindings, verifier, outcome: createCallOutcome(logger, isStoreDown, { logCalls: true, onUnavailable, metrics, tracer }) });
  // REST calls: the transcoder's access line is their one log line.
  const restDispatcher = createUnaryDispatcher({ services: bindings, verifier, outcome: createCallOutcome(logger, isStoreDown, { logCalls: false, onUnavailable, metrics, tracer }) });
  const rest = createRestHandler({ routes: buildRestRoutes(services), dispatcher: restDispatcher, logger, maxBodyBytes: config.maxBodyBytes });
  const openApi = createOpenApiRoute();
  const sse = createSseRoute({ log: events, verifier, logger, heartbeatMs: config.eventsHeartbeatMs, enabled: config.eventsEnabled });
  const metricsRoute = metrics ? createMetricsRoute(metrics) : () => false;
  const metricsServer = metrics && config.metrics.kind === "port" ? http.createServer((req, res) => {
    if (!metricsRoute(req, res)) res.writeHead(404).end();
  }) : undefined;
  const metricsOnMainPort = config.metrics.kind === "main";

  // Reflection serves the files the services are declared in.
  const files: DescFile[] = [...services.map((service) => service.file), file_grpc_health_v1_health];
  const routes = (router: ConnectRouter) => {
    for (const { service, impl } of bindings) router.service(service, impl);
    registerReflection(router, files);
    health.register(router);
  };
  const interceptors = [createObservabilityInterceptor(createCallOutcome(logger, isStoreDown, { logCalls: true, onUnavailable, metrics, tracer })), createAuthInterceptor(verifier)];
  const connect = connectNodeAdapter({ routes, interceptors, fallback: rest, readMaxBytes: config.maxBodyBytes });
  const connectUnary = createConnectUnaryHandler(dispatcher, { readMaxBytes: config.maxBodyBytes });
  const grpcUnary = createGrpcUnaryHandler(dispatcher, { readMaxBytes: config.maxBodyBytes });
  const cors = createCorsHandler({ allowedOrigins: config.corsAllowedOrigins, allowedHeaders: config.corsAllowedHeaders }, logger);

  let closing: Promise<void> | undefined;
  const inFlight = createInFlight<NodeServerResponse | http2.ServerHttp2Stream>();
  const handler = (req: NodeServerRequest, res: NodeServerResponse) => {
    inFlight.track(res);
    if (closing) endKeepAlive(res);
    if (cors(req, res) || connectUnary(req, res)) return;
    // gRPC and Connect paths are "/package.Service/Method"; the documented REST paths never are.
    if (isRpcPath(req.url)) connect(req, res);
    else if (!openApi(req, res) && !sse(req, res) && !(metricsOnMainPort && metricsRoute(req, res))) rest(req, res);
  };

  const h1 = http.createServer({
    requestTimeout: config.httpRequestTimeoutMs,
    headersTimeout: config.httpHeadersTimeoutMs,
    // Node enforces both timeouts on this tick; its 30 s default would stretch short ones.
    connectionsCheckingInterval: Math.min(1000, config.httpHeadersTimeoutMs),
    maxHeaderSize: config.httpMaxHeaderBytes,
  }, handler);
  const h2 = http2.createServer(http2ServerOptions({ maxConcurrentStreams: config.http2MaxConcurrentStreams, maxHeaderListBytes: config.httpMaxHeaderBytes }), handler);
  routeHttp2Streams(h2, (stream, headers) => {
    if (!grpcUnary(stream, headers)) return false;
    inFlight.track(stream);
    return true;
  });
  limitHttp2RequestTime(h2, config.httpRequestTimeoutMs);
  const h2Sessions = trackHttp2Sessions(h2, config.http2IdleTimeoutMs);
  const server = createOnePortServer(h1, h2, { firstBytesTimeoutMs: config.httpHeadersTimeoutMs });

  return {
    server,
    core,
    health,
    metricsServer,
    close() {
      closing ??= (async () => {
        storeHealth.stop();
        outage.stop();
        // Event streams (RPC and SSE) end now, cleanly: they would hold the drain below.
        events.close();
        // Webhook attempts and backoffs end now too; their leases are given up before Redis is quit.
        const webhooksStopped = Promise.all(webhooks.map((w) => w.stop()));
        health.shutdown();
        server.close();
        // HTTP/2: GOAWAY, open streams finish. HTTP/1.1: idle keep-alives close now.
        h2Sessions.closeAll();
        h1.closeIdleConnections();
        for (const exchange of inFlight.open()) if (exchange instanceof http.ServerResponse) endKeepAlive(exchange);
        const grace = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownGraceMs).unref());
        await Promise.race([inFlight.drained(), grace]);
        // A stream's last frames (a server stream's trailers) are written on the next turn: let them out first.
        await new Promise((resolve) => setImmediate(resolve));
        h1.closeAllConnections();
        h1.close(); // stops its connection-checking timer
        h2Sessions.destroyAll();
        await sweeper.stop();
        sweeperRedis.disconnect();
        await webhooksStopped;
        metricsServer?.close();
        await Promise.all([store.close(), tracer.shutdown().catch(() => undefined)]);
      })();
      return closing;
    },
  };
}

/** createServiceBindings builds each documented service's implementation once: every protocol reaches these objects. */
function createServiceBindings(config: Config, core: SessionCore, events: SessionEventLog): ServiceBinding[] {
  const jwt = createJwtIssuer(config.jwtSigningKeys, config.jwtIssuer);
  const pageTokens = createPageTokenCodec(createKeyedHash(config.tokenHmacKey, "page-token"));
  const bind = <S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceBinding => ({ service, impl: impl as unknown as ServiceImpl<DescService> });
  return [
    bind(SessionStorageService, createSessionStorageService(core)),
    bind(SessionsService, createSessionsService(core, pageTokens)),
    bind(AuthStatusService, createAuthStatusService(core)),
    bind(ClientSessionsService, createClientSessionsService({ core, jwt, jwtTtlSeconds: config.jwtTtlSeconds, templates: config.jwtTemplates })),
    bind(CookieSessionService, createCookieSessionService(core, { secure: config.cookieSecure, domain: config.cookieDomain, allowedOrigins: config.corsAllowedOrigins })),
    bind(JwksService, createJwksService(jwt)),
    bind(SignOutService, createSignOutService(core)),
    bind(SessionEventsService, createSessionEventsService(events, { heartbeatMs: config.eventsHeartbeatMs, enabled: config.eventsEnabled })),
  ];
}

// "/package.Service/Method" (a Connect GET adds a query): a dot in the first segment, two segments.
function isRpcPath(url: string | undefined): boolean {
  if (url === undefined || url.charCodeAt(0) !== 47) return false;
  const query = url.indexOf("?");
  const path = query < 0 ? url : url.slice(0, query);
  const slash = path.indexOf("/", 1);
  const dot = path.indexOf(".", 1);
  return slash > 0 && dot > 0 && dot < slash && path.indexOf("/", slash + 1) < 0;
}

// While shutting down, HTTP/1.1 clients are told not to reuse the connection.
function endKeepAlive(res: NodeServerResponse) {
  if (res instanceof http.ServerResponse && !res.headersSent) res.setHeader("connection", "close");
}
