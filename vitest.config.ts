import { configDefaults, defineConfig } from "vitest/config";
import { notOnCluster } from "./test/support/not-on-cluster.js";

// TEST_REDIS=cluster: the shared Redis is a 3-primary Cluster (global-setup.ts).
const onCluster = process.env.TEST_REDIS === "cluster";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(onCluster ? notOnCluster : [])],
    // One real Redis (or Cluster) for the whole run; each test file uses its own tenants.
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
