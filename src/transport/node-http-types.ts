import type { connectNodeAdapter } from "@connectrpc/connect-node";

// connect-node's handler types are not exported by name; these are them.
type NodeHandler = ReturnType<typeof connectNodeAdapter>;
export type NodeServerRequest = Parameters<NodeHandler>[0];
export type NodeServerResponse = Parameters<NodeHandler>[1];
