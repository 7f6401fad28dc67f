import ipaddr from "ipaddr.js";
import type { IpAddr } from "./types.ts";

const V4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const V6_CHARS = /^[0-9a-fA-F:.]+$/;

function reason(text: string): string | undefined {
  if (text.includes(":")) {
    if (!V6_CHARS.test(text)) return "IPv6 addresses may only contain hex digits, ':' and an IPv4 tail (no zone, no spaces)";
    const colon = text.lastIndexOf(":");
    const tail = text.slice(colon + 1);
    if (tail.includes(".")) {
      const m = V4.exec(tail);
      if (!m || m.slice(1).some((o) => Number(o) > 255)) return "the embedded IPv4 part must be four decimal octets 0-255 without leading zeros";
    }
    const groups = text.slice(0, tail.includes(".") ? colon : undefined).split(":");
    if (groups.some((g) => g.length > 4)) return "an IPv6 group has more than 4 hex digits";
    if (!ipaddr.IPv6.isValid(text)) return "not a valid IPv6 address";
    return undefined;
  }
  const m = V4.exec(text);
  if (!m) {
    if (/^\d+(\.\d+){3}$/.test(text)) return "IPv4 octets must be decimal without leading zeros";
    return "expected a dotted-quad IPv4 or an IPv6 address";
  }
  if (m.slice(1).some((o) => Number(o) > 255)) return "IPv4 octets must be 0-255";
  return undefined;
}

function canonical(text: string): IpAddr {
  if (text.includes(":")) return { family: 6, address: ipaddr.IPv6.parse(text).toRFC5952String() };
  return { family: 4, address: text };
}

/**
 * Parses an IPv4 (strict dotted quad, no leading zeros, no octal/hex forms) or IPv6 address
 * (no zone index) into its canonical form.
 *
 * @throws {SyntaxError} when `text` is not an address, e.g. `Cannot parse IP address "010.0.0.1": IPv4 octets must be decimal without leading zeros`
 * @example
 * ```ts
 * parseIp("2001:0db8::0001"); // { family: 6, address: "2001:db8::1" }
 * ```
 */
export function parseIp(text: string): IpAddr {
  if (typeof text !== "string") throw new TypeError(`Cannot parse IP address: expected a string, got ${typeof text}`);
  const why = reason(text);
  if (why) throw new SyntaxError(`Cannot parse IP address ${JSON.stringify(text)}: ${why}`);
  return canonical(text);
}

/** Like {@linkcode parseIp}, but returns `undefined` instead of throwing. */
export function tryParseIp(text: string): IpAddr | undefined {
  if (typeof text !== "string" || reason(text)) return undefined;
  return canonical(text);
}

/** Whether {@linkcode parseIp} would accept `text`. */
export function canParseIp(text: string): boolean {
  return typeof text === "string" && reason(text) === undefined;
}
