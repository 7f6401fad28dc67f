import { toBigInt } from "./_bits.ts";
import type { Cidr, IpAddr } from "./types.ts";

/**
 * Orders addresses: every IPv4 address before every IPv6 address, then numerically.
 * Returns -1, 0 or 1, so it can be passed to `Array.prototype.sort`.
 */
export function compareIp(a: IpAddr, b: IpAddr): -1 | 0 | 1 {
  if (a.family !== b.family) return a.family < b.family ? -1 : 1;
  if (a.address === b.address) return 0;
  const x = toBigInt(a);
  const y = toBigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Whether two addresses are the same (same family and value). */
export function ipEquals(a: IpAddr, b: IpAddr): boolean {
  return a.family === b.family && (a.address === b.address || toBigInt(a) === toBigInt(b));
}

/** Orders CIDRs by family, network address, then prefix length (shorter first). */
export function compareCidr(a: Cidr, b: Cidr): -1 | 0 | 1 {
  const c = compareIp(a, b);
  if (c !== 0) return c;
  return a.prefixLength < b.prefixLength ? -1 : a.prefixLength > b.prefixLength ? 1 : 0;
}
