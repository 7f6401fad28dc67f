import { bitsOf, fromBigInt, hostMask, toBigInt } from "./_bits.ts";
import { parseIp, tryParseIp } from "./parse_ip.ts";
import type { Cidr, IpAddr } from "./types.ts";

/** Options for {@linkcode parseCidr}. */
export interface ParseCidrOptions {
  /** Reject host bits (`10.0.0.5/24`) instead of clearing them. @default false */
  strict?: boolean;
}

/** An address together with the prefix of its network, as in `10.244.1.5/24`. */
export interface IpWithPrefix {
  /** The address as written (`10.244.1.5`). */
  readonly ip: IpAddr;
  /** Its network (`10.244.1.0/24`). */
  readonly cidr: Cidr;
}

function split(text: string): { ip: IpAddr; prefixLength: number } | string {
  if (typeof text !== "string") return `expected a string, got ${typeof text}`;
  const slash = text.indexOf("/");
  if (slash < 0) return "missing '/<prefix length>'";
  const ip = tryParseIp(text.slice(0, slash));
  if (!ip) {
    try {
      parseIp(text.slice(0, slash));
    } catch (err) {
      return (err as Error).message.replace(/^Cannot parse IP address /, "address ");
    }
  }
  const prefix = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix)) return `prefix length ${JSON.stringify(prefix)} must be a decimal number without leading zeros`;
  const prefixLength = Number(prefix);
  if (prefixLength > bitsOf(ip!.family)) return `prefix length ${prefixLength} exceeds ${bitsOf(ip!.family)} for IPv${ip!.family}`;
  return { ip: ip!, prefixLength };
}

/** The network containing `ip` with the given prefix length. @throws {RangeError} for a prefix length outside 0..32 / 0..128 */
export function cidrOf(ip: IpAddr, prefixLength: number): Cidr {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bitsOf(ip.family)) {
    throw new RangeError(`prefixLength must be an integer in 0..${bitsOf(ip.family)} for IPv${ip.family}, got ${prefixLength}`);
  }
  const n = toBigInt(ip) & ~hostMask(ip.family, prefixLength);
  return { family: ip.family, address: fromBigInt(ip.family, n).address, prefixLength };
}

/**
 * Parses `a.b.c.d/n` or `x::y/n` into a {@linkcode Cidr}, clearing host bits (as flannel does with
 * `Network`: `10.3.1.0/16` becomes `10.3.0.0/16`) unless `options.strict`.
 *
 * @throws {SyntaxError} for anything but an address, a slash and a prefix length in range ({@linkcode TypeError} for a non-string)
 * @example
 * ```ts
 * formatCidr(parseCidr("10.3.1.0/16")); // "10.3.0.0/16"
 * ```
 */
export function parseCidr(text: string, options: ParseCidrOptions = {}): Cidr {
  if (typeof text !== "string") throw new TypeError(`Cannot parse CIDR: expected a string, got ${typeof text}`);
  const parts = split(text);
  if (typeof parts === "string") throw new SyntaxError(`Cannot parse CIDR ${JSON.stringify(text)}: ${parts}`);
  const cidr = cidrOf(parts.ip, parts.prefixLength);
  if (options.strict && cidr.address !== parts.ip.address) {
    throw new SyntaxError(`Cannot parse CIDR ${JSON.stringify(text)}: host bits are set; the network is ${cidr.address}/${cidr.prefixLength}`);
  }
  return cidr;
}

/** Like {@linkcode parseCidr}, but returns `undefined` instead of throwing. */
export function tryParseCidr(text: string, options: ParseCidrOptions = {}): Cidr | undefined {
  const parts = split(text);
  if (typeof parts === "string") return undefined;
  const cidr = cidrOf(parts.ip, parts.prefixLength);
  if (options.strict && cidr.address !== parts.ip.address) return undefined;
  return cidr;
}

/** Whether {@linkcode parseCidr} would accept `text` with these options. */
export function canParseCidr(text: string, options: ParseCidrOptions = {}): boolean {
  return tryParseCidr(text, options) !== undefined;
}

/**
 * Parses an interface address such as `10.244.1.5/24` (as in subnet.env's `FLANNEL_SUBNET`) into the
 * address and its network, like Go's `net.ParseCIDR`.
 *
 * @throws {SyntaxError} as {@linkcode parseCidr}
 */
export function parseIpWithPrefix(text: string): IpWithPrefix {
  const parts = split(text);
  if (typeof parts === "string") throw new SyntaxError(`Cannot parse address with prefix ${JSON.stringify(text)}: ${parts}`);
  return { ip: parts.ip, cidr: cidrOf(parts.ip, parts.prefixLength) };
}

/** `10.0.0.0/24` text of a CIDR. */
export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.prefixLength}`;
}

/**
 * `10.244.1.5/24` text: an address with the prefix length of a network (or a number).
 * @throws {RangeError} when the families differ or the prefix length is out of range
 */
export function formatIpWithPrefix(ip: IpAddr, prefix: Cidr | number): string {
  const prefixLength = typeof prefix === "number" ? prefix : prefix.prefixLength;
  if (typeof prefix !== "number" && prefix.family !== ip.family) {
    throw new RangeError(`formatIpWithPrefix: ip ${ip.address} and cidr ${formatCidr(prefix)} are of different families`);
  }
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bitsOf(ip.family)) {
    throw new RangeError(`prefixLength must be an integer in 0..${bitsOf(ip.family)}, got ${prefixLength}`);
  }
  return `${ip.address}/${prefixLength}`;
}
