import { bitsOf, fromBigInt, hostMask, toBigInt } from "./_bits.ts";
import type { Cidr } from "./types.ts";

/** Options for {@linkcode subnetAt}. */
export interface SubnetAtOptions {
  /** Prefix length of the subnets; must be >= the network's. */
  prefixLength: number;
  /** Zero-based subnet number; negative counts from the end (-1 is the last subnet). */
  index: number | bigint;
}

function checkPrefix(network: Cidr, prefixLength: number): void {
  if (!Number.isInteger(prefixLength) || prefixLength < network.prefixLength || prefixLength > bitsOf(network.family)) {
    throw new RangeError(
      `prefixLength must be an integer in ${network.prefixLength}..${bitsOf(network.family)} for ${network.address}/${network.prefixLength}, got ${prefixLength}`,
    );
  }
}

/** How many subnets of `prefixLength` a network holds (2^(prefixLength - network.prefixLength)). */
export function subnetCount(network: Cidr, prefixLength: number): bigint {
  checkPrefix(network, prefixLength);
  return 1n << BigInt(prefixLength - network.prefixLength);
}

/** How many addresses a CIDR holds. */
export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(bitsOf(cidr.family) - cidr.prefixLength);
}

/**
 * Subnet number `index` of length `prefixLength` inside `network`.
 * @throws {RangeError} when the prefix length or index is out of range
 * @example
 * ```ts
 * formatCidr(subnetAt(parseCidr("10.244.0.0/16"), { prefixLength: 24, index: 5 })); // "10.244.5.0/24"
 * ```
 */
export function subnetAt(network: Cidr, options: SubnetAtOptions): Cidr {
  const count = subnetCount(network, options.prefixLength);
  if (typeof options.index === "number" && !Number.isSafeInteger(options.index)) {
    throw new RangeError(`index must be an integer, got ${options.index}`);
  }
  let index = BigInt(options.index);
  if (index < 0n) index += count;
  if (index < 0n || index >= count) {
    throw new RangeError(`index ${options.index} is outside 0..${count - 1n} for /${options.prefixLength} subnets of ${network.address}/${network.prefixLength}`);
  }
  const base = toBigInt(network) & ~hostMask(network.family, network.prefixLength);
  const n = base + (index << BigInt(bitsOf(network.family) - options.prefixLength));
  return { family: network.family, address: fromBigInt(network.family, n).address, prefixLength: options.prefixLength };
}
