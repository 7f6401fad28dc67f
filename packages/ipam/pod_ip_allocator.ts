/**
 * Pod-address allocation with host-local's behaviour (containernetworking/plugins
 * plugins/ipam/host-local/backend/allocator): one allocator per range set, round-robin from the range
 * set's last reserved address + 1, never the gateway, and claims made atomically by the store.
 *
 * Iteration (host-local `RangeIter`): with a usable last reserved address L, candidates run L+1 … end
 * of its range, the next ranges (wrapping), … up to and including L; otherwise from the first range's
 * rangeStart once round. The gateway is always skipped, and so are the network address and the IPv4
 * broadcast address (host-local would hand them out only with a hand-written rangeStart/rangeEnd).
 */
import { bitsOf, formatBigInt, hostMask, toBigInt } from "./_bits.ts";
import { Mutex } from "./_mutex.ts";
import { formatIpWithPrefix } from "./parse_cidr.ts";
import { canonicalizeRangeSet, formatRangeSet, rangeContains } from "./ip_range.ts";
import type { IpRange, IpRangeInput } from "./ip_range.ts";
import type { Cidr, IpAddr, IpamAttachment, IpamReservation, IpamStore } from "./types.ts";

/** Options for {@linkcode PodIpAllocator}. */
export interface PodIpAllocatorOptions {
  /** The range set (host-local `ipam.ranges[n]`), canonicalized by `canonicalizeRangeSet`. */
  ranges: readonly IpRangeInput[];
  /** Index of this range set in the config; names `last_reserved_ip.<n>`. @default 0 */
  rangeSetIndex?: number;
}

/** Options for {@linkcode PodIpAllocator.allocate}. */
export interface AllocateOptions {
  /** A specific address to reserve (CNI_ARGS `IP=`, `args.cni.ips`, `runtimeConfig.ips`). @default undefined (next free) */
  requestedIp?: IpAddr;
}

/** One allocated pod address, as host-local's IPConfig. */
export interface PodIpAllocation {
  /** The address. */
  readonly ip: IpAddr;
  /** The subnet of the range it came from. */
  readonly subnet: Cidr;
  /** That range's gateway. */
  readonly gateway: IpAddr;
  /** The address with the subnet's prefix, e.g. `10.1.2.2/24` (the CNI result's `address`). */
  readonly address: string;
}

/** The range set has no free address. Message as host-local: `no IP addresses available in range set: 10.99.0.1-10.99.0.6`. */
export class RangeSetExhaustedError extends Error {
  /** host-local's text of the range set. */
  readonly rangeSet: string;
  constructor(rangeSet: string, options?: ErrorOptions) {
    super(`no IP addresses available in range set: ${rangeSet}`, options);
    this.name = "RangeSetExhaustedError";
    this.rangeSet = rangeSet;
  }
}

/** A requested address is taken. Message as host-local: `requested IP address 10.99.0.5 is not available in range set 10.99.0.1-10.99.0.6`. */
export class IpNotAvailableError extends Error {
  /** The requested address. */
  readonly ip: IpAddr;
  readonly rangeSet: string;
  constructor(ip: IpAddr, rangeSet: string, options?: ErrorOptions) {
    super(`requested IP address ${ip.address} is not available in range set ${rangeSet}`, options);
    this.name = "IpNotAvailableError";
    this.ip = ip;
    this.rangeSet = rangeSet;
  }
}

/** The attachment already holds an address of this range set. Message as host-local: `10.244.0.2 has been allocated to probe1, duplicate allocation is not allowed`. */
export class DuplicateAllocationError extends Error {
  /** The address it already holds. */
  readonly ip: IpAddr;
  readonly containerId: string;
  constructor(ip: IpAddr, containerId: string, options?: ErrorOptions) {
    super(`${ip.address} has been allocated to ${containerId}, duplicate allocation is not allowed`, options);
    this.name = "DuplicateAllocationError";
    this.ip = ip;
    this.containerId = containerId;
  }
}

interface NumRange {
  readonly range: IpRange;
  readonly start: bigint;
  readonly end: bigint;
  readonly gateway: bigint;
  readonly network: bigint;
  readonly broadcast: bigint | undefined;
}

/** Runs `fn` after validating the attachment; a bad attachment becomes a rejected promise (TypeError). */
function checked<T>(attachment: IpamAttachment, fn: () => Promise<T>): Promise<T> {
  try {
    checkAttachment(attachment);
  } catch (err) {
    return Promise.reject(err);
  }
  return fn();
}

function checkAttachment(a: IpamAttachment): void {
  if (typeof a?.containerId !== "string" || a.containerId.trim() === "") throw new TypeError("attachment.containerId must be a non-empty string");
  if (typeof a.ifname !== "string") throw new TypeError("attachment.ifname must be a string");
}

/**
 * Allocates pod addresses from one range set, host-local style, on any {@linkcode IpamStore}.
 * Calls on one allocator are serialised (safe to call concurrently from one process); across
 * processes the store's atomic `reserve` keeps addresses unique.
 *
 * @example
 * ```ts
 * const alloc = new PodIpAllocator(new MemoryIpamStore(), { ranges: [{ subnet: "10.1.2.0/24" }] });
 * const a = await alloc.allocate({ containerId: "c1", ifname: "eth0" }); // a.address === "10.1.2.2/24"
 * await alloc.release({ containerId: "c1", ifname: "eth0" });
 * ```
 */
export class PodIpAllocator {
  /** The canonical range set. */
  readonly ranges: readonly IpRange[];
  /** Index of the range set (names `last_reserved_ip.<n>`). */
  readonly rangeSetIndex: number;
  readonly #store: IpamStore;
  readonly #num: readonly NumRange[];
  readonly #text: string;
  readonly #mutex = new Mutex();

  constructor(store: IpamStore, options: PodIpAllocatorOptions) {
    this.#store = store;
    this.ranges = canonicalizeRangeSet(options.ranges);
    this.rangeSetIndex = options.rangeSetIndex ?? 0;
    if (!Number.isInteger(this.rangeSetIndex) || this.rangeSetIndex < 0) {
      throw new RangeError(`options.rangeSetIndex must be a non-negative integer, got ${this.rangeSetIndex}`);
    }
    this.#text = formatRangeSet(this.ranges);
    this.#num = this.ranges.map((range) => {
      const family = range.subnet.family;
      const network = toBigInt(range.subnet);
      const last = network | hostMask(family, range.subnet.prefixLength);
      return {
        range,
        start: toBigInt(range.rangeStart),
        end: toBigInt(range.rangeEnd),
        gateway: toBigInt(range.gateway),
        network,
        broadcast: family === 4 && range.subnet.prefixLength < bitsOf(4) - 1 ? last : undefined,
      };
    });
  }

  /** host-local's text of the range set (`10.1.2.1-10.1.2.254`). */
  toString(): string {
    return this.#text;
  }

  /** Whether `ip` lies in one of the ranges. */
  contains(ip: IpAddr): boolean {
    return this.ranges.some((r) => rangeContains(r, ip));
  }

  /**
   * Reserves an address for `attachment`: the requested one, or the next free one round-robin.
   * @throws {DuplicateAllocationError} when the attachment already holds an address of this range set (no request)
   * @throws {IpNotAvailableError} when the requested address is taken
   * @throws {RangeSetExhaustedError} when no address is free
   * @throws {RangeError} when the requested address is outside the range set (`10.9.9.9 not in range set …`) or is the gateway (`requested ip 10.1.2.1 is subnet's gateway`)
   */
  allocate(attachment: IpamAttachment, options: AllocateOptions = {}): Promise<PodIpAllocation> {
    return checked(attachment, () => this.#mutex.run(() => this.#allocate(attachment, options)));
  }

  async #allocate(attachment: IpamAttachment, options: AllocateOptions): Promise<PodIpAllocation> {
    const reserveOpts = { rangeSetIndex: this.rangeSetIndex };
    const requested = options.requestedIp;
    if (requested !== undefined) {
      const r = this.#rangeFor(requested);
      if (!r) throw new RangeError(`${requested.address} not in range set ${this.#text}`);
      if (toBigInt(requested) === r.gateway) throw new RangeError(`requested ip ${requested.address} is subnet's gateway`);
      if (!(await this.#store.reserve(requested, attachment, reserveOpts))) throw new IpNotAvailableError(requested, this.#text);
      return this.#result(requested, r);
    }

    for (const held of await this.#store.findByAttachment(attachment)) {
      if (this.#rangeFor(held.ip)) throw new DuplicateAllocationError(held.ip, attachment.containerId.trim());
    }

    for (let pass = 0; pass < 2; pass++) {
      if (pass === 1) await this.#store.sync(); // the index may be stale: addresses freed by other processes
      const last = await this.#store.lastReserved(this.rangeSetIndex);
      for (const [n, r] of this.#candidates(last)) {
        if (n === r.network || n === r.broadcast) continue;
        const ip: IpAddr = { family: r.range.subnet.family, address: formatBigInt(r.range.subnet.family, n) };
        if (await this.#store.reserve(ip, attachment, reserveOpts)) return this.#result(ip, r);
      }
    }
    throw new RangeSetExhaustedError(this.#text);
  }

  /** host-local's RangeIter, over bigints: yields [address, range], the gateway already skipped. */
  *#candidates(last: IpAddr | undefined): Generator<[bigint, NumRange]> {
    const ranges = this.#num;
    let idx = 0;
    let cur: bigint | undefined;
    let startIp: bigint | undefined;
    if (last !== undefined) {
      const i = this.#num.findIndex((r) => rangeContains(r.range, last));
      if (i >= 0) {
        idx = i;
        cur = toBigInt(last);
      }
    }
    // Bound the walk: every address of every range once, plus the gateway skips.
    for (;;) {
      let r = ranges[idx]!;
      if (cur === undefined) {
        cur = r.start;
        startIp = cur;
      } else {
        if (cur === r.end) {
          idx = (idx + 1) % ranges.length;
          r = ranges[idx]!;
          cur = r.start;
        } else {
          cur = cur + 1n;
        }
        if (startIp === undefined) startIp = cur;
        else if (cur === startIp) return;
      }
      if (cur === r.gateway) continue;
      yield [cur, r];
    }
  }

  #rangeFor(ip: IpAddr): NumRange | undefined {
    return this.#num.find((r) => rangeContains(r.range, ip));
  }

  #result(ip: IpAddr, r: NumRange): PodIpAllocation {
    return { ip, subnet: r.range.subnet, gateway: r.range.gateway, address: formatIpWithPrefix(ip, r.range.subnet) };
  }

  /**
   * Frees the addresses of this range set held by `attachment` (host-local `Release`/`ReleaseByID`:
   * entries matching container id and ifname, or, when there are none, entries of old host-local
   * versions that hold only the container id). Releasing what is not held is not an error.
   * @returns the freed addresses
   */
  release(attachment: IpamAttachment): Promise<IpAddr[]> {
    return checked(attachment, () => this.#mutex.run(async () => {
      const mine = await this.#held(attachment);
      const exact = mine.filter((r) => r.ifname === attachment.ifname);
      const freed: IpAddr[] = [];
      for (const r of exact.length > 0 ? exact : mine) {
        if (await this.#store.release(r.ip, { owner: attachment })) freed.push(r.ip);
      }
      return freed;
    }));
  }

  /** The addresses of this range set held by `attachment` (for CNI CHECK). */
  async find(attachment: IpamAttachment): Promise<IpAddr[]> {
    checkAttachment(attachment);
    return (await this.#held(attachment)).map((r) => r.ip);
  }

  /** The attachment's reservations in this range set; when the store's view has none, re-read it once (another process may have made them). */
  async #held(attachment: IpamAttachment): Promise<IpamReservation[]> {
    let mine = (await this.#store.findByAttachment(attachment)).filter((r) => this.#rangeFor(r.ip));
    if (mine.length === 0) {
      await this.#store.sync();
      mine = (await this.#store.findByAttachment(attachment)).filter((r) => this.#rangeFor(r.ip));
    }
    return mine;
  }

  /**
   * CNI GC: frees every address of this range set whose holder is not among `keep` (entries of old
   * host-local versions are kept when their container id is). Reads other processes' state first.
   * @returns the freed addresses
   */
  async gc(keep: Iterable<IpamAttachment>): Promise<IpAddr[]> {
    const keys = new Set<string>();
    const ids = new Set<string>();
    for (const a of keep) {
      checkAttachment(a);
      keys.add(`${a.containerId.trim()}\r\n${a.ifname}`);
      ids.add(a.containerId.trim());
    }
    return await this.#mutex.run(async () => {
      await this.#store.sync({ full: true });
      const freed: IpAddr[] = [];
      for (const r of await this.#store.list()) {
        if (r.containerId === undefined || !this.#rangeFor(r.ip)) continue;
        const kept = r.ifname === undefined ? ids.has(r.containerId) : keys.has(`${r.containerId}\r\n${r.ifname}`);
        if (kept) continue;
        if (await this.#store.release(r.ip, { owner: { containerId: r.containerId, ifname: r.ifname ?? "" } })) freed.push(r.ip);
      }
      return freed;
    });
  }

  /** Every reservation of this range set. */
  async list(): Promise<IpamReservation[]> {
    return (await this.#store.list()).filter((r) => this.#rangeFor(r.ip));
  }
}
