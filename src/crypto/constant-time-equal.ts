import { createHash, timingSafeEqual } from "node:crypto";

/**
 * constantTimeEqual compares two secrets in time independent of where they
 * differ. Hashing first gives equal-length inputs, so not even the length of
 * the expected secret leaks.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}
