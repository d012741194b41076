/**
 * retryDelayMs is the wait after `failedAttempts` failures: exponential from
 * `baseMs`, capped at `maxMs`, then "equal jitter" (between half and all of
 * it) so that hooks failing together do not retry in step.
 */
export function retryDelayMs(failedAttempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failedAttempts - 1, 0), 40));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
