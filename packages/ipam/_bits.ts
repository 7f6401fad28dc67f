// Private: conversions between IpAddr and bigint, shared by the address math.
import type { IpAddr, IpFamily } from "./types.ts";

/** Number of bits in an address of `family`. */
export function bitsOf(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** Largest address of `family` as a bigint. */
export function maxOf(family: IpFamily): bigint {
  return family === 4 ? 0xffff_ffffn : (1n << 128n) - 1n;
}

/** Mask of the host bits for `prefixLength`. */
export function hostMask(family: IpFamily, prefixLength: number): bigint {
  return (1n << BigInt(bitsOf(family) - prefixLength)) - 1n;
}

/** The address as an unsigned integer. `ip.address` must be canonical (as produced by this package). */
export function toBigInt(ip: { readonly family: IpFamily; readonly address: string }): bigint {
  if (ip.family === 4) {
    const p = ip.address.split(".");
    if (p.length !== 4) throw new TypeError(`ip: not an IPv4 address: ${JSON.stringify(ip.address)}`);
    let n = 0;
    for (const part of p) {
      const v = Number(part);
      if (!Number.isInteger(v) || v < 0 || v > 255 || part === "") {
        throw new TypeError(`ip: not an IPv4 address: ${JSON.stringify(ip.address)}`);
      }
      n = n * 256 + v;
    }
    return BigInt(n);
  }
  if (ip.family !== 6) throw new TypeError(`ip.family must be 4 or 6, got ${String(ip.family)}`);
  const n = parseV6(ip.address);
  if (n === undefined) throw new TypeError(`ip: not an IPv6 address: ${JSON.stringify(ip.address)}`);
  return n;
}

const V6_TEXT = /^[0-9a-fA-F:]*$/;

// ipaddr.js's IPv6 parser is slow (~0.5 ms per call); this one handles what parseIp accepts.
function parseV6(text: string): bigint | undefined {
  let head = text;
  let tail: number[] = [];
  if (text.includes(".")) {
    const colon = text.lastIndexOf(":");
    const v4 = text.slice(colon + 1).split(".");
    if (v4.length !== 4 || !v4.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return undefined;
    const [a, b, c, d] = v4.map(Number) as [number, number, number, number];
    tail = [a * 256 + b, c * 256 + d];
    head = text.slice(0, colon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  if (!V6_TEXT.test(head)) return undefined;
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (g.length === 0 || g.length > 4) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (!left || !right) return undefined;
  right.push(...tail);
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const g = [...left, ...new Array<number>(missing).fill(0), ...right];
  const word = (i: number) => BigInt(g[i]! * 65536 + g[i + 1]!);
  return (word(0) << 96n) | (word(2) << 64n) | (word(4) << 32n) | word(6);
}

/** Formats an unsigned integer as an address of `family` (canonical text). */
export function fromBigInt(family: IpFamily, n: bigint): IpAddr {
  return { family, address: formatBigInt(family, n) };
}

/** Canonical text of an address given as an unsigned integer. */
export function formatBigInt(family: IpFamily, n: bigint): string {
  if (n < 0n || n > maxOf(family)) throw new RangeError(`address ${n} is outside the IPv${family} space`);
  if (family === 4) {
    const v = Number(n);
    return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const parts: number[] = new Array(8);
  for (let i = 0; i < 4; i++) {
    const w = Number((n >> BigInt(96 - 32 * i)) & 0xffff_ffffn);
    parts[2 * i] = Math.floor(w / 65536);
    parts[2 * i + 1] = w % 65536;
  }
  // RFC 5952 (as Go's net.IP.String()): compress the longest run of two or more zero groups, the first one on a tie.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => parts.slice(from, to).map((p) => p.toString(16)).join(":");
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}
