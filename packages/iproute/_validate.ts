import { parseCidr, parseIp, parseIpWithPrefix } from "@weft/ipam";
import type { IpFamily } from "./types.ts";

// Fast paths: batches of thousands of entries validate the same few names and plain IPv4 text over
// and over; the general parsers of @weft/ipam (BigInt math) handle IPv6 and the error messages.
const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const V4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const PREFIX = /^(0|[1-9]\d?)$/;
const goodNames = new Set<string>();

/** The 32-bit value of a canonical dotted quad, or undefined when `text` is not one. */
function v4(text: string): number | undefined {
  const m = V4.exec(text);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

/** Splits canonical `a.b.c.d/n` into its value and prefix, or undefined. */
function v4Prefix(text: string): { ip: number; len: number } | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const ip = v4(text.slice(0, slash));
  const p = text.slice(slash + 1);
  if (ip === undefined || !PREFIX.test(p)) return undefined;
  const len = Number(p);
  return len <= 32 ? { ip, len } : undefined;
}

/** Throws a TypeError unless `name` is a valid Linux interface name (1-15 bytes, no '/', ':' or whitespace, not '.'/'..'). */
export function checkIfname(name: unknown, field = "name"): string {
  if (typeof name === "string" && goodNames.has(name)) return name;
  if (typeof name !== "string") throw new TypeError(`${field} must be a string, got ${typeof name}`);
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes > 15) throw new TypeError(`${field} ${JSON.stringify(name)} must be 1-15 bytes long`);
  if (name === "." || name === "..") throw new TypeError(`${field} ${JSON.stringify(name)} is not allowed`);
  // ':' is reserved for aliases, '#' starts a comment and quotes are special in `ip -batch` lines.
  if (/[\s/:"'#\\\x00-\x1f\x7f]/.test(name)) throw new TypeError(`${field} ${JSON.stringify(name)} contains a character not allowed in interface names`);
  return name;
}

/** Validates an IP address (no prefix) and returns its canonical text. */
export function checkIp(text: unknown, field: string, family?: IpFamily): string {
  if (typeof text !== "string") throw new TypeError(`${field} must be a string, got ${typeof text}`);
  if (family !== 6 && V4.test(text)) return text;
  let ip;
  try {
    ip = parseIp(text);
  } catch (err) {
    throw new TypeError(`${field}: ${(err as Error).message}`, { cause: err });
  }
  if (family !== undefined && ip.family !== family) throw new TypeError(`${field} ${text} is not an IPv${family} address`);
  return ip.address;
}

/** Validates `addr/len` keeping host bits (an interface address) and returns canonical text. */
export function checkIpWithPrefix(text: unknown, field: string): { text: string; family: IpFamily } {
  if (typeof text !== "string") throw new TypeError(`${field} must be a string, got ${typeof text}`);
  if (v4Prefix(text)) return { text, family: 4 };
  try {
    const { ip, cidr } = parseIpWithPrefix(text);
    return { text: `${ip.address}/${cidr.prefixLength}`, family: ip.family };
  } catch (err) {
    throw new TypeError(`${field}: ${(err as Error).message}`, { cause: err });
  }
}

/** Validates a route destination: `default`, a CIDR (host bits must be clear) or a bare address. */
export function checkDst(text: unknown, family: IpFamily | undefined): { text: string; family: IpFamily } {
  if (text === "default") return { text: "default", family: family ?? 4 };
  if (typeof text !== "string") throw new TypeError(`dst must be a string, got ${typeof text}`);
  const fast = v4Prefix(text);
  if (fast) {
    const hostBits = fast.len === 32 ? 0 : (fast.ip & (0xffffffff >>> fast.len)) >>> 0;
    if (hostBits === 0) return { text, family: 4 };
  }
  if (!text.includes("/")) {
    if (V4.test(text)) return { text: `${text}/32`, family: 4 };
    const address = checkIp(text, "dst");
    const fam: IpFamily = address.includes(":") ? 6 : 4;
    return { text: `${address}/${fam === 4 ? 32 : 128}`, family: fam };
  }
  try {
    const cidr = parseCidr(text, { strict: true });
    return { text: `${cidr.address}/${cidr.prefixLength}`, family: cidr.family };
  } catch (err) {
    throw new TypeError(`dst: ${(err as Error).message}`, { cause: err });
  }
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Validates a MAC address and returns it in lower case. */
export function checkMac(text: unknown, field: string): string {
  if (typeof text !== "string" || !MAC.test(text.toLowerCase())) {
    throw new TypeError(`${field} ${JSON.stringify(text)} is not a MAC address like 0e:2a:00:00:00:01`);
  }
  return text.toLowerCase();
}

/** Validates an integer in [min, max]. */
export function checkInt(n: unknown, field: string, min: number, max: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${field} must be an integer in ${min}..${max}, got ${String(n)}`);
  }
  return n;
}

/** Validates a namespace handle for a `netns` argument: a name, an absolute path or a pid. */
export function checkNetnsArg(ns: unknown, field = "netns"): string {
  if (typeof ns === "number") return String(checkInt(ns, field, 1, 2 ** 31 - 1));
  return checkNetnsHandle(ns, field);
}

/** A namespace name (as under /var/run/netns) or an absolute path to a namespace file. */
export function checkNetnsHandle(ns: unknown, field = "netns"): string {
  if (typeof ns !== "string" || ns === "") throw new TypeError(`${field} must be a non-empty string`);
  if (/[\s"'#\\\x00-\x1f\x7f]/.test(ns)) throw new TypeError(`${field} ${JSON.stringify(ns)} contains whitespace, quotes or control characters`);
  if (ns.startsWith("/")) {
    if (ns.split("/").some((p) => p === "..")) throw new TypeError(`${field} ${JSON.stringify(ns)} must not contain '..'`);
    return ns;
  }
  if (ns.includes("/") || ns === "." || ns === ".." || ns.startsWith("-")) {
    throw new TypeError(`${field} ${JSON.stringify(ns)} must be a namespace name or an absolute path`);
  }
  return ns;
}

/** A sysctl key under /proc/sys/net, slash-separated; dots in interface names are kept. */
export function checkSysctlKey(key: unknown): string {
  if (typeof key !== "string") throw new TypeError(`sysctl key must be a string, got ${typeof key}`);
  const parts = key.split("/");
  if (parts[0] !== "net" || parts.length < 3) throw new TypeError(`sysctl key ${JSON.stringify(key)} must be a slash-separated path under net/, e.g. net/ipv4/ip_forward`);
  for (const p of parts) {
    if (p === "" || p === "." || p === ".." || !/^[A-Za-z0-9_.@-]+$/.test(p)) {
      throw new TypeError(`sysctl key ${JSON.stringify(key)} has an invalid component ${JSON.stringify(p)}`);
    }
  }
  return key;
}

/** Validates a sysctl value (a number or a short word). */
export function checkSysctlValue(value: unknown): string {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !/^[A-Za-z0-9_. -]{1,64}$/.test(text)) throw new TypeError(`sysctl value ${JSON.stringify(value)} must be a number or a short word`);
  return text;
}
