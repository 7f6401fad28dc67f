import type { Redis } from "ioredis";
import { parseNetConf } from "@weft/netconf";
import type { NetConf } from "@weft/netconf";
import { DEFAULT_REDIS_PREFIX } from "./redis_lease_registry.ts";

/** Options of {@linkcode readRedisNetConf} and {@linkcode writeRedisNetConf}. */
export interface RedisNetConfOptions {
  /** Key prefix; the config lives at `<prefix>/config`. @default "/coreos.com/network" */
  prefix?: string;
}

/** Thrown by {@linkcode readRedisNetConf} when `<prefix>/config` does not exist (the agent retries every second, as flannel). */
export class NetConfNotFoundError extends Error {
  /** The Redis key that was read. */
  readonly key: string;
  constructor(key: string, options?: { cause?: unknown }) {
    super(`flannel config not found in redis store at ${key}`, options);
    this.name = "NetConfNotFoundError";
    this.key = key;
  }
}

function configKey(options: RedisNetConfOptions): string {
  return `${(options.prefix ?? DEFAULT_REDIS_PREFIX).replace(/\/+$/, "")}/config`;
}

/**
 * Reads net-conf.json from `<prefix>/config` and parses it with flannel's defaults and checks
 * (`parseNetConf`, which throws `NetConfError` with flannel's texts). flannel re-reads the config on every
 * acquisition; call this before each `acquire`.
 */
export async function readRedisNetConf(client: Redis, options: RedisNetConfOptions = {}): Promise<NetConf> {
  const key = configKey(options);
  const text = await client.get(key);
  if (text === null) throw new NetConfNotFoundError(key);
  return parseNetConf(text);
}

/** Stores net-conf.json text at `<prefix>/config` (for operators' tools and tests); the text is not validated. */
export async function writeRedisNetConf(client: Redis, text: string, options: RedisNetConfOptions = {}): Promise<void> {
  await client.set(configKey(options), text);
}
