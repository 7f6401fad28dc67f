// One @weft/ipam PodIpAllocator per node subnet (range set n = family n, IPv4 first), with the
// allocator's errors turned into CNI errors and a failed dual-stack allocation rolled back.
// Requested addresses (see _pod_requests.ts) are matched to range sets by `plan()` before anything
// is reserved, as host-local does: each must fall in one range set, one address per range set.
import {
  DuplicateAllocationError, IpNotAvailableError, PodIpAllocator, RangeSetExhaustedError, formatCidr,
} from "@weft/ipam";
import type { Cidr, IpamAttachment, IpamStore, PodIpAllocation } from "@weft/ipam";
import { requestError, type IpRequest } from "./_pod_requests.ts";
import { CniError } from "./cni_error.ts";
import { CNI_ERROR } from "./constants.ts";

/** The request for each range set (by index), undefined where the address is chosen automatically. */
export type IpPlan = ReadonlyArray<IpRequest | undefined>;

export class PodIpam {
  readonly allocators: PodIpAllocator[];
  readonly key: string;
  readonly #store: IpamStore;
  constructor(store: IpamStore, subnets: readonly Cidr[]) {
    this.#store = store;
    this.key = subnets.map(formatCidr).join(",");
    this.allocators = subnets.map((s, i) => new PodIpAllocator(store, { ranges: [{ subnet: formatCidr(s) }], rangeSetIndex: i }));
  }

  /**
   * Assigns each requested address to the range set containing it. Throws a CniError (the request's
   * code, naming its field and value) for an address in no range set, a prefix that is not the
   * subnet's, the gateway, or a second, different address for one range set.
   */
  plan(requests: readonly IpRequest[]): IpPlan {
    const out: Array<IpRequest | undefined> = this.allocators.map(() => undefined);
    const sets = () => this.allocators.map((a, i) => `range set ${i}: ${a}`).join("; ");
    for (const req of requests) {
      const i = this.allocators.findIndex((a) => a.contains(req.ip));
      if (i < 0) {
        throw requestError(req.code, req.field, req.value, `requested IP ${req.ip.address} is not in a range set of this node's pod subnet (${sets()})`);
      }
      const range = this.allocators[i]!.ranges[0]!;
      if (req.prefixLength !== undefined && req.prefixLength !== range.subnet.prefixLength) {
        throw requestError(req.code, req.field, req.value, `prefix length ${req.prefixLength} does not match the node subnet ${formatCidr(range.subnet)}`);
      }
      if (range.gateway.address === req.ip.address) {
        throw requestError(req.code, req.field, req.value, `requested ip ${req.ip.address} is subnet's gateway`);
      }
      const prev = out[i];
      if (prev && prev.ip.address !== req.ip.address) {
        throw requestError(req.code, req.field, req.value,
          `a second requested IP for range set ${i} (${this.allocators[i]}), which already has ${prev.ip.address} from ${prev.field}: one address per range set`);
      }
      if (!prev) out[i] = req;
    }
    return out;
  }

  /** One address per range set: the planned request, or the next free one. */
  async allocate(attachment: IpamAttachment, plan: IpPlan = []): Promise<PodIpAllocation[]> {
    const out: PodIpAllocation[] = [];
    let req: IpRequest | undefined;
    try {
      for (const [i, a] of this.allocators.entries()) {
        req = plan[i];
        if (req) {
          // The allocator checks duplicates only for automatic addresses (as host-local); check here
          // too, so a repeated ADD with a request cannot give one attachment two addresses.
          const held = (await this.#store.findByAttachment(attachment)).find((r) => a.contains(r.ip) && (r.ifname === undefined || r.ifname === attachment.ifname));
          if (held) throw new DuplicateAllocationError(held.ip, attachment.containerId.trim());
        }
        out.push(await a.allocate(attachment, req ? { requestedIp: req.ip } : {}));
      }
      return out;
    } catch (err) {
      // Release only what this call reserved (an address the attachment held before stays).
      for (const x of out) await this.#store.release(x.ip, { owner: attachment }).catch(() => {});
      if (err instanceof DuplicateAllocationError) {
        throw new CniError(CNI_ERROR.alreadyExists, err.message, { details: `(containerID, ifname) = (${attachment.containerId}, ${attachment.ifname})`, cause: err });
      }
      if (err instanceof RangeSetExhaustedError) throw new CniError(CNI_ERROR.addressesExhausted, err.message, { cause: err });
      if (err instanceof IpNotAvailableError) {
        throw new CniError(CNI_ERROR.addressNotAvailable, err.message, { ...(req ? { details: `requested by ${req.field}=${req.value}` } : {}), cause: err });
      }
      if (err instanceof RangeError && req) throw new CniError(req.code, `${req.field}=${req.value}: ${err.message}`, { cause: err });
      throw err;
    }
  }
}
