import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freeClusterPort } from "./start-redis-cluster.js";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One primary and the replica that follows it, by port. */
export interface Shard {
  readonly primary: number;
  readonly replica: number;
}

/**
 * ReplicatedCluster is a Redis Cluster of real redis-server processes, each
 * primary with replicas, that a test may kill and restart node by node.
 */
export interface ReplicatedCluster {
  /** "host:port,…" of the primaries at start, as REDIS_CLUSTER_NODES takes it. */
  readonly nodes: string;
  /** The shards as created (primary and its replica). */
  readonly shards: readonly Shard[];
  /** SIGKILLs the node on `port`; resolves once it has exited. */
  kill(port: number): Promise<void>;
  /** Starts the node on `port` again with its directory and cluster config (it rejoins, as a replica if it was failed over). */
  restart(port: number): Promise<void>;
  /** Resolves once `port` is a primary and every running node reports cluster_state:ok. */
  promoted(port: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `port` is a replica whose link to its primary is up and synced. */
  replicating(port: number, timeoutMs?: number): Promise<void>;
  /** How many times the running nodes ran `command` (INFO commandstats, summed). */
  commandCalls(command: string): Promise<number>;
  /** Kills every node and removes their folders. */
  stop(): Promise<void>;
}

export interface ReplicatedClusterOptions {
  readonly primaries?: number;
  readonly replicasPerPrimary?: number;
  /** cluster-node-timeout: how long a silent primary takes to be considered failing. */
  readonly nodeTimeoutMs?: number;
}

/**
 * startReplicatedCluster runs primaries × (1 + replicas) cluster-enabled
 * redis-servers, each in its own folder, joins them with `redis-cli
 * --cluster create --cluster-replicas`, and resolves once every node
 * reports cluster_state:ok and every replica is in sync. Persistence is
 * off, as in the other test Redis servers: a restarted node gets its data
 * from its primary. Replicas resync diskless, at once, so a restarted node
 * is back as a replica within about a second.
 */
export async function startReplicatedCluster(options: ReplicatedClusterOptions = {}): Promise<ReplicatedCluster> {
  const { primaries = 3, replicasPerPrimary = 1, nodeTimeoutMs = 1000 } = options;
  const root = mkdtempSync(path.join(os.tmpdir(), "sss-failover-"));
  const children = new Map<number, ChildProcess>();
  const ports: number[] = [];

  const start = (port: number) => {
    const dir = path.join(root, String(port));
    mkdirSync(dir, { recursive: true });
    const child = spawn(
      "redis-server",
      [
        "--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", String(nodeTimeoutMs),
        "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
      ],
      { stdio: "ignore" },
    );
    children.set(port, child);
  };
  const kill = async (port: number) => {
    const child = children.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };
  const stop = async () => {
    await Promise.all([...children.keys()].map(kill));
    rmSync(root, { recursive: true, force: true });
  };
  const running = () => [...children].filter(([, c]) => c.exitCode === null && c.signalCode === null).map(([port]) => port);

  try {
    for (let i = 0; i < primaries * (1 + replicasPerPrimary); i++) {
      const port = await freeClusterPort(ports);
      ports.push(port);
      start(port);
    }
    await Promise.all(ports.map((port) => until(() => answersPing(port), 10_000, `redis-server on ${port} did not answer PING`)));
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", String(replicasPerPrimary), "--cluster-yes"], { timeout: 30_000 });
    await Promise.all(ports.map((port) => until(async () => (await info(port, "cluster", "info")).cluster_state === "ok", 20_000, `node ${port} never reported cluster_state:ok`)));
  } catch (e) {
    await stop();
    throw e;
  }
  let shards: Shard[] = [];
  try {
    // Replicas show up in every node's view a little after cluster_state:ok.
    await until(async () => (shards = await readShards(ports[0]!, replicasPerPrimary)).length === primaries, 20_000, "replicas never joined their primaries");
    await Promise.all(shards.map((s) => until(() => inSync(s.replica), 20_000, `replica ${s.replica} never synced`)));
  } catch (e) {
    await stop();
    throw e;
  }

  return {
    nodes: shards.map((s) => `127.0.0.1:${s.primary}`).join(","),
    shards,
    kill,
    async restart(port) {
      start(port);
      await until(() => answersPing(port), 10_000, `redis-server on ${port} did not answer PING after a restart`);
    },
    async promoted(port, timeoutMs = 20_000) {
      await until(async () => {
        if ((await info(port, "INFO", "replication")).role !== "master") return false;
        const states = await Promise.all(running().map(async (p) => (await info(p, "CLUSTER", "INFO")).cluster_state));
        return states.every((s) => s === "ok");
      }, timeoutMs, `node ${port} was not promoted`);
    },
    async replicating(port, timeoutMs = 20_000) {
      await until(() => inSync(port), timeoutMs, `node ${port} is not a synced replica`);
    },
    async commandCalls(command) {
      const stats = await Promise.all(running().map((p) => info(p, "INFO", "commandstats")));
      return stats.reduce((sum, s) => sum + Number(/calls=(\d+)/.exec(s[`cmdstat_${command.toLowerCase()}`] ?? "")?.[1] ?? 0), 0);
    },
    stop,
  };
}

/** The primaries that have all their replicas (the first one named), from CLUSTER NODES. */
async function readShards(port: number, replicasPerPrimary: number): Promise<Shard[]> {
  const text = await ask(port, ["CLUSTER", "NODES"]);
  const nodes = (text ?? "").split("\n").filter((line) => /:\d+@/.test(line)).map((line) => {
    const [id, address, flags, primaryId] = line.split(" ");
    return { id: id!, port: Number(/:(\d+)@/.exec(address!)![1]), primary: flags!.includes("master"), primaryId: primaryId! };
  });
  return nodes.flatMap((p) => {
    const replicas = nodes.filter((n) => !n.primary && n.primaryId === p.id);
    return p.primary && replicas.length === replicasPerPrimary ? [{ primary: p.port, replica: replicas[0]!.port }] : [];
  });
}

async function inSync(port: number): Promise<boolean> {
  const replication = await info(port, "INFO", "replication");
  return replication.role === "slave" && replication.master_link_status === "up" && replication.master_sync_in_progress === "0";
}

/** A node's `INFO …` or `CLUSTER INFO` as key:value pairs ({} when the node does not answer). */
async function info(port: number, ...command: string[]): Promise<Record<string, string>> {
  const text = await ask(port, command);
  return Object.fromEntries((text ?? "").split(/\r?\n/).filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]));
}

async function answersPing(port: number): Promise<boolean> {
  return (await ask(port, ["PING"])) === "PONG";
}

/**
 * Sends one command on a fresh connection and resolves with its reply as
 * text (a simple or bulk string), or undefined when the node does not
 * answer within a second. Polling through redis-cli would start a process
 * every few milliseconds while the test measures.
 */
function ask(port: number, command: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => {
      socket.write(`*${command.length}\r\n${command.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`);
    });
    let buffered = Buffer.alloc(0);
    const done = (reply: string | undefined) => {
      socket.destroy();
      resolve(reply);
    };
    socket.setTimeout(1_000, () => done(undefined));
    socket.on("error", () => done(undefined));
    socket.on("close", () => done(undefined));
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const eol = buffered.indexOf("\r\n");
      if (eol < 0) return;
      const head = buffered.subarray(0, eol).toString();
      if (head[0] !== "$") return done(head[0] === "+" ? head.slice(1) : undefined);
      const length = Number(head.slice(1));
      if (length < 0) return done(undefined);
      if (buffered.length >= eol + 2 + length) done(buffered.subarray(eol + 2, eol + 2 + length).toString());
    });
  });
}

async function until(check: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(message);
    await sleep(25);
  }
}
