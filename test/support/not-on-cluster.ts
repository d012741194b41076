/**
 * Test files that do not run again with TEST_REDIS=cluster, and why; every
 * other file runs against the shared 3-primary Cluster (vitest.config.ts).
 * None is here because it fails on Cluster: each needs a Redis of its own,
 * brings its own topology, or never touches Redis, so a second run would
 * repeat exactly what the single-Redis run tested.
 */
export const notOnCluster: readonly string[] = [
  // Start, freeze, kill or flush a redis-server of their own: one Redis by nature.
  "test/redis-outage.test.ts",
  "test/redis-faults.test.ts",
  "test/server-faults.test.ts",
  "packages/client/test/deadline.test.ts",
  // Stall, sleep or count commands on a redis-server of their own (store faults, index
  // expiry, list cost); the local run starts the service's own.
  "test/store-faults.test.ts",
  "test/index-expiry.test.ts",
  "test/tenant-list-cost.test.ts",
  "test/local-run.test.ts",
  // Store layout on its own redis-server: hash encodings and INFO commandstats of one server.
  "test/store-layout.test.ts",
  // The scripts' EVALSHA / EVAL fallback, counted with INFO commandstats of one server.
  "test/redis-scripts.test.ts",
  // Starts its own Cluster and Sentinel already.
  "test/redis-topologies.test.ts",
  // A replicated Cluster it kills a primary of (failover under load), and a
  // primary with a replica of its own (REDIS_WAIT_REPLICAS).
  "test/cluster-failover.test.ts",
  "test/replica-wait.test.ts",
  // The built entry point (dist/src/main.js): local runs and the shutdown start their own
  // redis-server; configuration errors need none.
  "test/main-process.test.ts",
  "test/shutdown-under-load.test.ts",
  // No Redis at all: token sealing, configuration checks, the outage log, gRPC
  // reflection and health on a bare server, the lean metric series, the
  // dispatcher's call context, timestamps.
  "test/token-locator.test.ts",
  "test/call-context.test.ts",
  "test/timestamp.test.ts",
  "test/lean-metrics.test.ts",
  "test/configuration-checks.test.ts",
  "test/outage-log.test.ts",
  "test/reflection-health.test.ts",
];
