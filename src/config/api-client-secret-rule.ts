/** The shortest API client secret accepted: 32 characters of a random secret carry ≥ 128 bits in any common alphabet. */
export const apiClientSecretMinLength = 32;
/** Fewer distinct characters than this means a typed or repeated secret, not a random one. */
export const apiClientSecretMinDistinct = 16;

/**
 * apiClientSecretProblem says why a secret is too weak, or undefined when it
 * is acceptable. The answer never quotes the secret: callers put it in
 * start-up messages next to the client id.
 */
export function apiClientSecretProblem(secret: string): string | undefined {
  if (secret.length < apiClientSecretMinLength) return `the secret must be at least ${apiClientSecretMinLength} characters`;
  if (new Set(secret).size < apiClientSecretMinDistinct) return `the secret must have at least ${apiClientSecretMinDistinct} distinct characters (a random secret has)`;
  return undefined;
}
