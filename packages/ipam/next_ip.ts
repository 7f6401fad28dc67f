import { fromBigInt, maxOf, toBigInt } from "./_bits.ts";
import type { IpAddr } from "./types.ts";

/** Options for {@linkcode nextIp}. */
export interface NextIpOptions {
  /** How far to step; negative steps go backwards. @default 1 */
  by?: number | bigint;
}

/**
 * The address `by` (default 1) after `ip`.
 * @throws {RangeError} when the result would leave the address space (no wrap-around)
 * @example
 * ```ts
 * nextIp(parseIp("10.0.0.255")); // { family: 4, address: "10.0.1.0" }
 * ```
 */
export function nextIp(ip: IpAddr, options: NextIpOptions = {}): IpAddr {
  const by = options.by ?? 1;
  if (typeof by === "number" && !Number.isSafeInteger(by)) throw new RangeError(`options.by must be a safe integer, got ${by}`);
  const n = toBigInt(ip) + BigInt(by);
  if (n < 0n || n > maxOf(ip.family)) throw new RangeError(`nextIp: ${ip.address} + ${by} leaves the IPv${ip.family} address space`);
  return fromBigInt(ip.family, n);
}
