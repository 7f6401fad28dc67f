// Adapters between @weft/ipam's family-tagged values and text/bytes (private). All address
// validation of stored text goes through ipaddr.js so that malformed store contents never throw deep inside.
import ipaddr from "ipaddr.js";
import { formatCidr, parseCidr, parseIp } from "@weft/ipam";
import type { Cidr, IpAddr } from "@weft/ipam";

/** `10.0.1.0/24` */
export function cidrText(c: Cidr): string {
  return formatCidr(c);
}

/** `10.0.0.1` */
export function ipText(ip: IpAddr): string {
  return ip.address;
}

/** Strictly parses `ip/len` of the given family; undefined when invalid. */
export function cidrOf(text: string, family: 4 | 6): Cidr | undefined {
  const slash = text.lastIndexOf("/");
  if (slash < 0) return undefined;
  const ip = text.slice(0, slash);
  if (family === 4 ? !ipaddr.IPv4.isValidFourPartDecimal(ip) : !ipaddr.IPv6.isValid(ip)) return undefined;
  try {
    const c = parseCidr(text);
    return c.family === family ? c : undefined;
  } catch {
    return undefined;
  }
}

/** Strictly parses an address of either family; undefined when invalid. */
export function ipOf(text: string): IpAddr | undefined {
  if (!ipaddr.IPv4.isValidFourPartDecimal(text) && !ipaddr.IPv6.isValid(text)) return undefined;
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

function bytes(text: string): number[] {
  return ipaddr.parse(text).toByteArray();
}

/** Orders two addresses of the same family (negative, 0, positive). */
export function compareAddr(a: IpAddr | Cidr, b: IpAddr | Cidr): number {
  const x = bytes(addrText(a));
  const y = bytes(addrText(b));
  if (x.length !== y.length) return x.length - y.length;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/** The address part of an IpAddr or a Cidr as text. */
export function addrText(a: IpAddr | Cidr): string {
  return a.address;
}

export function sameIp(a: IpAddr | undefined, b: IpAddr | undefined): boolean {
  if (!a || !b) return a === b;
  return a.family === b.family && compareAddr(a, b) === 0;
}

export function sameCidr(a: Cidr | undefined, b: Cidr | undefined): boolean {
  if (!a || !b) return a === b;
  return cidrText(a) === cidrText(b);
}
