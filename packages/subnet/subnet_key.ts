import type { Cidr } from "@weft/ipam";
import { cidrOf, cidrText } from "./_ip.ts";

/** The two subnets a key names. `subnet` is absent for an IPv6-only lease (key `0.0.0.0-0&<v6>-<len>`). */
export interface SubnetKeyParts {
  readonly subnet?: Cidr;
  readonly ipv6Subnet?: Cidr;
}

// flannel pkg/subnet/subnet.go: (\d+\.\d+.\d+.\d+)-(\d+)(?:&([a-f\d:]+)-(\d+))?$ — anchored here at both ends,
// dots escaped; the IPv4 prefix must fit 5 bits (0..31) and the IPv6 prefix 7 bits (0..127), as in flannel.
const KEY = /^(\d+\.\d+\.\d+\.\d+)-(\d+)(?:&([a-f\d:]+)-(\d+))?$/;

/**
 * Formats flannel's subnet key (`MakeSubnetKey`): `10.12.13.0-24`, dual-stack `10.12.13.0-24&fd00:12:13::-56`,
 * IPv6-only `0.0.0.0-0&fd00:12:13::-56`.
 *
 * @example
 * ```ts
 * formatSubnetKey({ subnet: parseCidr("10.12.13.0/24") }); // "10.12.13.0-24"
 * ```
 */
export function formatSubnetKey(parts: SubnetKeyParts): string {
  if (!parts.subnet && !parts.ipv6Subnet) throw new TypeError("formatSubnetKey: subnet or ipv6Subnet is required");
  const v4 = parts.subnet ? `${parts.subnet.address}-${parts.subnet.prefixLength}` : "0.0.0.0-0";
  if (parts.subnet && parts.subnet.family !== 4) throw new TypeError(`formatSubnetKey: subnet must be IPv4, got ${cidrText(parts.subnet)}`);
  if (!parts.ipv6Subnet) return v4;
  if (parts.ipv6Subnet.family !== 6) throw new TypeError(`formatSubnetKey: ipv6Subnet must be IPv6, got ${cidrText(parts.ipv6Subnet)}`);
  return `${v4}&${parts.ipv6Subnet.address}-${parts.ipv6Subnet.prefixLength}`;
}

/**
 * Parses a subnet key (the part after `<prefix>/subnets/`); returns `undefined` for anything that is not one
 * (flannel's `ParseSubnetKey` returns nil, nil and the watch skips it: `not a subnet, skipping`).
 */
export function parseSubnetKey(key: string): SubnetKeyParts | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const len4 = Number(m[2]);
  if (!(len4 <= 31)) return undefined;
  const subnet = cidrOf(`${m[1]}/${len4}`, 4);
  if (!subnet) return undefined;
  if (m[3] === undefined) return len4 === 0 && m[1] === "0.0.0.0" ? undefined : { subnet };
  const len6 = Number(m[4]);
  if (!(len6 <= 127)) return undefined;
  const ipv6Subnet = cidrOf(`${m[3]}/${len6}`, 6);
  if (!ipv6Subnet) return undefined;
  return len4 === 0 && m[1] === "0.0.0.0" ? { ipv6Subnet } : { subnet, ipv6Subnet };
}
