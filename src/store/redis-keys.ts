/**
 * Every Redis key the service uses. All keys of one user share the hash tag
 * {<tenant>:<user>}, so per-user scripts touch a single Redis Cluster slot.
 * The token pointer and the tenant index are secondary indexes in their own
 * slots: a pointer expires with its session, and a tenant index entry whose
 * session is gone is removed when a list meets it.
 *
 *   ss:{T:U}:s:<sid>      hash    one session (fields: see redis-session-codec.ts);
 *                                 expires (PEXPIREAT) when the session does
 *   ss:{T:U}:idx          zset    the user's session ids, scored by creation ms
 *   ss:{T:U}:recent       zset    the user's session ids, scored by the last save
 *                                 or touch: the highest live one is current
 *   ss:tok:<hmac>         string  name of the session key holding that token hash;
 *                                 expires with the session
 *   ss:tenant:{T}:idx     zset    the tenant's session ids, scored by creation ms
 */
export const redisKeys = Object.freeze({
  sessionPrefix: (tenantId: string, userId: string) => `ss:{${tenantId}:${userId}}:s:`,
  session: (tenantId: string, userId: string, sessionId: string) => `ss:{${tenantId}:${userId}}:s:${sessionId}`,
  userIndex: (tenantId: string, userId: string) => `ss:{${tenantId}:${userId}}:idx`,
  userRecency: (tenantId: string, userId: string) => `ss:{${tenantId}:${userId}}:recent`,
  tokenPointer: (tokenHash: string) => `ss:tok:${tokenHash}`,
  tenantIndex: (tenantId: string) => `ss:tenant:{${tenantId}}:idx`,
});
