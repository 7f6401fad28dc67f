import { Redis } from "ioredis";
import type { RedisOptions } from "ioredis";

/** Options of {@linkcode createRedisClient}: where Redis is and how to authenticate. */
export interface CreateRedisClientOptions {
  /** `redis://[user:pass@]host:port/db` or `rediss://…` (TLS). Fields given below override it. @default none */
  url?: string;
  /** @default "127.0.0.1" (unless `url` or `sentinels` say otherwise) */
  host?: string;
  /** @default 6379 */
  port?: number;
  /** ACL user name (Redis 6+). @default none */
  username?: string;
  /** Password (`AUTH`). @default none */
  password?: string;
  /** Database index. @default 0 */
  db?: number;
  /** TLS options (Node `tls.connect` options); `true` = TLS with defaults. @default none (plain TCP) */
  tls?: RedisOptions["tls"] | true;
  /** Sentinel addresses; with them, `sentinelName` names the monitored master. @default none */
  sentinels?: { host: string; port: number }[];
  /** The master group name for Sentinel. @default "mymaster" */
  sentinelName?: string;
  /** Password of the Sentinels themselves. @default none */
  sentinelPassword?: string;
  /** Any further ioredis options, passed through unchanged. @default {} */
  extra?: RedisOptions;
}

/**
 * Creates an ioredis client for a lease registry: password/ACL user, TLS and Sentinel are passed through to
 * ioredis. Commands are queued while disconnected and retried without limit (the registry and the manager bound
 * their own waits), and the client reconnects with a backoff from 100 ms to 5 s.
 *
 * @example
 * ```ts
 * const redis = createRedisClient({ sentinels: [{ host: "10.0.0.5", port: 26379 }], sentinelName: "weft", password: "s3cret" });
 * ```
 */
export function createRedisClient(options: CreateRedisClientOptions = {}): Redis {
  const o: RedisOptions = {
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times - 1, 6), 5_000),
    ...options.extra,
  };
  if (options.host !== undefined) o.host = options.host;
  if (options.port !== undefined) o.port = options.port;
  if (options.username !== undefined) o.username = options.username;
  if (options.password !== undefined) o.password = options.password;
  if (options.db !== undefined) o.db = options.db;
  if (options.tls !== undefined) o.tls = options.tls === true ? {} : options.tls;
  if (options.sentinels) {
    o.sentinels = options.sentinels;
    o.name = options.sentinelName ?? "mymaster";
    if (options.sentinelPassword !== undefined) o.sentinelPassword = options.sentinelPassword;
  }
  return options.url !== undefined ? new Redis(options.url, o) : new Redis(o);
}
