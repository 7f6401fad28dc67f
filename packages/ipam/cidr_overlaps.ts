import { hostMask, toBigInt } from "./_bits.ts";
import type { Cidr } from "./types.ts";

/** Whether two CIDRs share at least one address (one contains the other). Different families never overlap. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const shorter = Math.min(a.prefixLength, b.prefixLength);
  const mask = ~hostMask(a.family, shorter);
  return (toBigInt(a) & mask) === (toBigInt(b) & mask);
}
