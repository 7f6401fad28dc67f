import { bitsOf, formatBigInt, hostMask, toBigInt } from "./_bits.ts";
import { subnetCount } from "./subnet_at.ts";
import type { Cidr, IpAddr } from "./types.ts";

/** Options for {@linkcode iterateSubnets}. */
export interface IterateSubnetsOptions {
  /** Prefix length of the subnets; must be >= the network's. */
  prefixLength: number;
  /** First subnet to yield: the subnet containing this address (flannel's SubnetMin). @default the network's first subnet */
  min?: IpAddr | Cidr;
  /** Last subnet to yield: the subnet containing this address (flannel's SubnetMax). @default the network's last subnet */
  max?: IpAddr | Cidr;
}

/**
 * Lazily yields the subnets of length `prefixLength` of `network`, in address order, from the one
 * containing `min` to the one containing `max` (inclusive). Nothing is materialised, so a /8 split into
 * /24s or a /48 into /64s costs only what the caller consumes.
 * @throws {RangeError} for a bad prefix length, or `min`/`max` outside the network or of another family
 */
export function* iterateSubnets(network: Cidr, options: IterateSubnetsOptions): Generator<Cidr, void, undefined> {
  const { prefixLength } = options;
  subnetCount(network, prefixLength); // validates the prefix length
  const family = network.family;
  const netMask = ~hostMask(family, network.prefixLength);
  const subMask = ~hostMask(family, prefixLength);
  const base = toBigInt(network) & netMask;
  const bound = (x: IpAddr | Cidr | undefined, name: string, fallback: bigint): bigint => {
    if (x === undefined) return fallback;
    if (x.family !== family) throw new RangeError(`options.${name} ${x.address} is not IPv${family}`);
    const n = toBigInt(x);
    if ((n & netMask) !== base) throw new RangeError(`options.${name} ${x.address} is outside ${network.address}/${network.prefixLength}`);
    return n & subMask;
  };
  const step = 1n << BigInt(bitsOf(family) - prefixLength);
  const first = bound(options.min, "min", base);
  const last = bound(options.max, "max", base | (hostMask(family, network.prefixLength) & subMask));
  for (let n = first; n <= last; n += step) {
    yield { family, address: formatBigInt(family, n), prefixLength };
  }
}
