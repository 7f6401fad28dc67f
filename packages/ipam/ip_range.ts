import { toBigInt } from "./_bits.ts";
import { cidrContains } from "./cidr_contains.ts";
import { lastUsable } from "./cidr_hosts.ts";
import { nextIp } from "./next_ip.ts";
import { parseIp } from "./parse_ip.ts";
import { formatCidr, parseCidr } from "./parse_cidr.ts";
import type { Cidr, IpAddr } from "./types.ts";

/**
 * One range of a host-local range set as configured (`{ subnet, rangeStart?, rangeEnd?, gateway? }`).
 * Fields may be text (as in the CNI config JSON) or parsed values.
 */
export interface IpRangeInput {
  readonly subnet: string | Cidr;
  readonly rangeStart?: string | IpAddr;
  readonly rangeEnd?: string | IpAddr;
  readonly gateway?: string | IpAddr;
}

/** A canonical range: every field set, as host-local's `Range.Canonicalize` leaves it. */
export interface IpRange {
  readonly subnet: Cidr;
  readonly rangeStart: IpAddr;
  readonly rangeEnd: IpAddr;
  readonly gateway: IpAddr;
}

function asIp(x: string | IpAddr): IpAddr {
  return typeof x === "string" ? parseIp(x) : x;
}

/**
 * Fills in and checks one range with host-local's rules and messages: the subnet must be a network
 * address (`Network has host bits set. For a subnet mask of length 24 the network address is 192.0.2.0`)
 * leaving at least 2 hosts (`Network 192.0.2.0/31 too small to allocate from`); gateway defaults to .1,
 * rangeStart to .1 (the allocator skips the gateway), rangeEnd to the last address (minus the IPv4
 * broadcast); both must lie in the subnet (`RangeStart 192.0.3.0 not in network 192.0.2.0/24`).
 *
 * @throws {SyntaxError} for unparsable addresses; {@linkcode RangeError} for the rules above
 */
export function canonicalizeRange(input: IpRangeInput): IpRange {
  let subnet: Cidr;
  if (typeof input.subnet === "string") {
    subnet = parseCidr(input.subnet);
    const written = parseIp(input.subnet.slice(0, input.subnet.indexOf("/")));
    if (written.address !== subnet.address) {
      checkSize(subnet);
      throw new RangeError(`Network has host bits set. For a subnet mask of length ${subnet.prefixLength} the network address is ${subnet.address}`);
    }
  } else {
    subnet = parseCidr(formatCidr(input.subnet));
    if (subnet.address !== input.subnet.address) {
      throw new RangeError(`Network has host bits set. For a subnet mask of length ${subnet.prefixLength} the network address is ${subnet.address}`);
    }
  }
  checkSize(subnet);
  const gateway = input.gateway !== undefined ? asIp(input.gateway) : nextIp(subnet);
  const inSubnet = (ip: IpAddr, name: string): IpAddr => {
    if (!cidrContains(subnet, ip)) throw new RangeError(`${name} ${ip.address} not in network ${formatCidr(subnet)}`);
    return ip;
  };
  const rangeStart = input.rangeStart !== undefined ? inSubnet(asIp(input.rangeStart), "RangeStart") : nextIp(subnet);
  const rangeEnd = input.rangeEnd !== undefined ? inSubnet(asIp(input.rangeEnd), "RangeEnd") : lastUsable(subnet);
  return { subnet, rangeStart, rangeEnd, gateway };
}

function checkSize(subnet: Cidr): void {
  const bits = subnet.family === 4 ? 32 : 128;
  if (subnet.prefixLength > bits - 2) throw new RangeError(`Network ${formatCidr(subnet)} too small to allocate from`);
}

/** Whether `ip` lies in the range: inside the subnet and rangeStart <= ip <= rangeEnd. */
export function rangeContains(range: IpRange, ip: IpAddr): boolean {
  if (!cidrContains(range.subnet, ip)) return false;
  const n = toBigInt(ip);
  return n >= toBigInt(range.rangeStart) && n <= toBigInt(range.rangeEnd);
}

function rangesOverlap(a: IpRange, b: IpRange): boolean {
  if (a.subnet.family !== b.subnet.family) return false;
  return rangeContains(a, b.rangeStart) || rangeContains(a, b.rangeEnd) || rangeContains(b, a.rangeStart) || rangeContains(b, a.rangeEnd);
}

/** host-local's text of a range, `rangeStart-rangeEnd` (e.g. `10.99.0.1-10.99.0.6`). */
export function formatRange(range: IpRange): string {
  return `${range.rangeStart.address}-${range.rangeEnd.address}`;
}

/** host-local's text of a range set: the ranges joined by commas. */
export function formatRangeSet(ranges: readonly IpRange[]): string {
  return ranges.map(formatRange).join(",");
}

/**
 * Canonicalizes a range set (host-local `RangeSet.Canonicalize`): every range by {@linkcode canonicalizeRange},
 * then `empty range set`, `mixed address families` and `subnets 10.0.0.1-10.0.0.254 and 10.0.0.1-10.0.0.62 overlap`.
 *
 * @throws {SyntaxError} for unparsable addresses; {@linkcode RangeError} for the rules above
 */
export function canonicalizeRangeSet(inputs: readonly IpRangeInput[]): IpRange[] {
  if (inputs.length === 0) throw new RangeError("empty range set");
  const ranges = inputs.map(canonicalizeRange);
  const family = ranges[0]!.subnet.family;
  if (ranges.some((r) => r.subnet.family !== family)) throw new RangeError("mixed address families");
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (rangesOverlap(ranges[i]!, ranges[j]!)) {
        throw new RangeError(`subnets ${formatRange(ranges[i]!)} and ${formatRange(ranges[j]!)} overlap`);
      }
    }
  }
  return ranges;
}
