import type { Command } from "ioredis";
import type { RedisClient } from "../store/redis-client.js";
import type { Metrics } from "./metrics.js";

type SendCommand = (command: Command, ...rest: unknown[]) => unknown;

// When a command was first sent: marks it as timed already.
const sentAt = Symbol("sentAt");
type TimedCommand = Command & { [sentAt]?: number };

/**
 * instrumentRedis times every command the client sends, to its reply or
 * failure. It wraps the client's sendCommand, which ioredis calls for every
 * command — direct or in a pipeline, on one server or a
 * Cluster — so no call site can be missed. A command sent again (a Cluster
 * redirect, a queue flush) is timed once, from its first send.
 *
 * The reply is seen by wrapping the command's own resolve and reject, which
 * ioredis calls with it: no promise chained per command, and the mark is a
 * property of the command rather than an entry in a WeakSet (a weak table
 * that grew with every command in flight and that every GC had to walk).
 */
export function instrumentRedis(redis: RedisClient, metrics: Metrics): void {
  const send = (redis as unknown as { sendCommand: SendCommand }).sendCommand.bind(redis) as SendCommand;
  (redis as unknown as { sendCommand: SendCommand }).sendCommand = (command: TimedCommand, ...rest) => {
    if (command[sentAt] === undefined) {
      const start = (command[sentAt] = performance.now());
      const { resolve, reject } = command;
      command.resolve = (value) => {
        metrics.redisCommand(command.name, (performance.now() - start) / 1000, false);
        resolve(value);
      };
      command.reject = (error) => {
        metrics.redisCommand(command.name, (performance.now() - start) / 1000, true);
        reject(error);
      };
    }
    return send(command, ...rest);
  };
}
