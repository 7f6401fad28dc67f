/**
 * One CNI network's IPAM, as host-local's `cmdAdd`/`cmdDel`/`cmdCheck`/GC run it: one
 * {@linkcode PodIpAllocator} per range set (e.g. `[[v4 ranges], [v6 ranges]]`), all on one store.
 * This is what a warm CNI server keeps per network.
 */
import { rangeContains } from "./ip_range.ts";
import type { IpRangeInput } from "./ip_range.ts";
import { PodIpAllocator } from "./pod_ip_allocator.ts";
import type { PodIpAllocation } from "./pod_ip_allocator.ts";
import type { IpAddr, IpamAttachment, IpamStore } from "./types.ts";

/** Options for {@linkcode NetworkIpam}. */
export interface NetworkIpamOptions {
  /** host-local's `ipam.ranges`: a list of range sets; one address is allocated from each. */
  rangeSets: readonly (readonly IpRangeInput[])[];
}

/** Options for {@linkcode NetworkIpam.allocate}. */
export interface NetworkIpamAllocateOptions {
  /** Addresses to use (CNI_ARGS `IP=`, `args.cni.ips`, `runtimeConfig.ips`); each must fall in a range set. @default [] */
  requestedIps?: readonly IpAddr[];
}

/**
 * Allocation failed in one range set; earlier range sets were rolled back. Message as host-local:
 * `failed to allocate for range 0: no IP addresses available in range set: 10.99.0.1-10.99.0.6`.
 * The allocator's error (e.g. `RangeSetExhaustedError`) is the `cause`.
 */
export class RangeSetAllocationError extends Error {
  /** Index of the failing range set. */
  readonly rangeSetIndex: number;
  constructor(rangeSetIndex: number, cause: unknown) {
    super(`failed to allocate for range ${rangeSetIndex}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "RangeSetAllocationError";
    this.rangeSetIndex = rangeSetIndex;
  }
}

/**
 * Allocates one address per range set for an attachment, with host-local's rules: a requested address
 * goes to the range set containing it; a failure releases what was taken and reports
 * `failed to allocate for range <n>: …`; a requested address no range set used fails with
 * `failed to allocate all requested IPs: <ips>` (RangeError).
 *
 * @example
 * ```ts
 * const net = new NetworkIpam(new MemoryIpamStore(), { rangeSets: [[{ subnet: "10.1.2.0/24" }], [{ subnet: "2001:db8:1::/64" }]] });
 * const ips = await net.allocate({ containerId: "c1", ifname: "eth0" }); // 10.1.2.2/24, 2001:db8:1::2/64
 * ```
 */
export class NetworkIpam {
  /** One allocator per range set, in order (index = range-set index). */
  readonly allocators: readonly PodIpAllocator[];

  constructor(store: IpamStore, options: NetworkIpamOptions) {
    if (options.rangeSets.length === 0) throw new RangeError("options.rangeSets must not be empty");
    this.allocators = options.rangeSets.map((ranges, rangeSetIndex) => new PodIpAllocator(store, { ranges, rangeSetIndex }));
    for (let i = 0; i < this.allocators.length; i++) {
      for (let j = i + 1; j < this.allocators.length; j++) {
        const a = this.allocators[i]!.ranges;
        const b = this.allocators[j]!.ranges;
        if (a.some((r) => b.some((s) => rangeContains(s, r.rangeStart) || rangeContains(s, r.rangeEnd) || rangeContains(r, s.rangeStart)))) {
          throw new RangeError(`range set ${i} overlaps with ${j}`);
        }
      }
    }
  }

  /**
   * Reserves one address in every range set for `attachment` (host-local `cmdAdd`).
   * @throws {RangeSetAllocationError} when a range set cannot give an address (nothing stays reserved)
   * @throws {RangeError} when a requested address fits no range set
   */
  async allocate(attachment: IpamAttachment, options: NetworkIpamAllocateOptions = {}): Promise<PodIpAllocation[]> {
    const requested = new Map<string, IpAddr>();
    for (const ip of options.requestedIps ?? []) requested.set(`${ip.family}/${ip.address}`, ip);
    const done: PodIpAllocation[] = [];
    const taken: PodIpAllocator[] = [];
    const rollback = async () => {
      for (const a of taken) await a.release(attachment).catch(() => undefined);
    };
    for (const [index, allocator] of this.allocators.entries()) {
      let requestedIp: IpAddr | undefined;
      for (const [key, ip] of requested) {
        if (allocator.contains(ip)) {
          requestedIp = ip;
          requested.delete(key);
          break;
        }
      }
      try {
        done.push(await allocator.allocate(attachment, { requestedIp }));
        taken.push(allocator);
      } catch (err) {
        await rollback();
        throw new RangeSetAllocationError(index, err);
      }
    }
    if (requested.size > 0) {
      await rollback();
      throw new RangeError(`failed to allocate all requested IPs: ${[...requested.values()].map((ip) => ip.address).join(" ")}`);
    }
    return done;
  }

  /** Frees the attachment's addresses in every range set (host-local `cmdDel`); idempotent. */
  async release(attachment: IpamAttachment): Promise<IpAddr[]> {
    const freed: IpAddr[] = [];
    for (const a of this.allocators) freed.push(...(await a.release(attachment)));
    return freed;
  }

  /** The attachment's addresses across all range sets (host-local `cmdCheck` fails when empty). */
  async find(attachment: IpamAttachment): Promise<IpAddr[]> {
    const found: IpAddr[] = [];
    for (const a of this.allocators) found.push(...(await a.find(attachment)));
    return found;
  }

  /** CNI GC across all range sets: frees every address not held by one of `keep`. */
  async gc(keep: Iterable<IpamAttachment>): Promise<IpAddr[]> {
    const kept = [...keep];
    const freed: IpAddr[] = [];
    for (const a of this.allocators) freed.push(...(await a.gc(kept)));
    return freed;
  }
}
