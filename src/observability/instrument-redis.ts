import type { Command } from "ioredis";
import type { RedisClient } from "../store/redis-client.js";
import type { Metrics } from "./metrics.js";

type SendCommand = (command: Command, ...rest: unknown[]) => unknown;

/**
 * instrumentRedis times every command the client sends, to its reply or
 * failure. It wraps the client's sendCommand, which ioredis calls for every
 * command — direct, auto-pipelined or in a pipeline, on one server or a
 * Cluster — so no call site can be missed. A command sent again (a Cluster
 * redirect, a queue flush) is timed once, from its first send.
 */
export function instrumentRedis(redis: RedisClient, metrics: Metrics): void {
  const timed = new WeakSet<Command>();
  const send = (redis as unknown as { sendCommand: SendCommand }).sendCommand.bind(redis) as SendCommand;
  (redis as unknown as { sendCommand: SendCommand }).sendCommand = (command, ...rest) => {
    if (!timed.has(command)) {
      timed.add(command);
      const start = performance.now();
      command.promise.then(
        () => metrics.redisCommand(command.name, (performance.now() - start) / 1000, false),
        () => metrics.redisCommand(command.name, (performance.now() - start) / 1000, true),
      );
    }
    return send(command, ...rest);
  };
}
