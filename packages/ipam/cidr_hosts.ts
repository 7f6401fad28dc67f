import { bitsOf, fromBigInt, hostMask, toBigInt } from "./_bits.ts";
import type { Cidr, IpAddr } from "./types.ts";

// Host addresses of a CIDR. IPv4 reserves the network and broadcast addresses except in /31
// (RFC 3021, both usable) and /32. IPv6 has no broadcast: like host-local, the last address is usable.

function bounds(cidr: Cidr): { net: bigint; last: bigint; bits: number } {
  const net = toBigInt(cidr) & ~hostMask(cidr.family, cidr.prefixLength);
  return { net, last: net | hostMask(cidr.family, cidr.prefixLength), bits: bitsOf(cidr.family) };
}

/** The first host address: network + 1 (the network itself for a /32 or /128, the lower one of an IPv4 /31). */
export function firstUsable(cidr: Cidr): IpAddr {
  const { net, bits } = bounds(cidr);
  if (cidr.prefixLength === bits) return fromBigInt(cidr.family, net);
  if (cidr.family === 4 && cidr.prefixLength === 31) return fromBigInt(4, net);
  return fromBigInt(cidr.family, net + 1n);
}

/**
 * The conventional gateway, network + 1 (`10.244.1.1` for `10.244.1.0/24`), as flannel's
 * FLANNEL_SUBNET and host-local's default gateway.
 * @throws {RangeError} for a single-address CIDR (/32, /128)
 */
export function gatewayOf(cidr: Cidr): IpAddr {
  const { net, bits } = bounds(cidr);
  if (cidr.prefixLength === bits) throw new RangeError(`${cidr.address}/${cidr.prefixLength} has no room for a gateway`);
  return fromBigInt(cidr.family, net + 1n);
}

/**
 * The last host address: broadcast - 1 for IPv4 (`.254` in a /24), the last address for IPv6,
 * /31 and /32 (host-local's default `rangeEnd`).
 */
export function lastUsable(cidr: Cidr): IpAddr {
  const { last, bits } = bounds(cidr);
  if (cidr.family === 4 && cidr.prefixLength < bits - 1) return fromBigInt(4, last - 1n);
  return fromBigInt(cidr.family, last);
}

/** The last address of the CIDR: the IPv4 broadcast address (IPv6 has no broadcast; this is then its all-ones address). */
export function broadcastOf(cidr: Cidr): IpAddr {
  return fromBigInt(cidr.family, bounds(cidr).last);
}
