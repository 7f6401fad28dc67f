import { hostMask, toBigInt } from "./_bits.ts";
import type { Cidr, IpAddr } from "./types.ts";

function isCidr(x: IpAddr | Cidr): x is Cidr {
  return typeof (x as Cidr).prefixLength === "number";
}

/**
 * Whether `cidr` contains an address, or all of another CIDR. Different families never contain each other.
 * @example
 * ```ts
 * cidrContains(parseCidr("10.0.0.0/8"), parseCidr("10.1.0.0/16")); // true
 * ```
 */
export function cidrContains(cidr: Cidr, ipOrCidr: IpAddr | Cidr): boolean {
  if (cidr.family !== ipOrCidr.family) return false;
  if (isCidr(ipOrCidr) && ipOrCidr.prefixLength < cidr.prefixLength) return false;
  const mask = ~hostMask(cidr.family, cidr.prefixLength);
  return (toBigInt(ipOrCidr) & mask) === (toBigInt(cidr) & mask);
}
