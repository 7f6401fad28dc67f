// One @weft/ipam PodIpAllocator per node subnet (range set n = family n, IPv4 first), with the
// allocator's errors turned into CNI errors and a failed dual-stack allocation rolled back.
import { DuplicateAllocationError, PodIpAllocator, RangeSetExhaustedError, formatCidr } from "@weft/ipam";
import type { Cidr, IpamAttachment, IpamStore, PodIpAllocation } from "@weft/ipam";
import { CniError } from "./cni_error.ts";
import { CNI_ERROR } from "./constants.ts";

export class PodIpam {
  readonly allocators: PodIpAllocator[];
  readonly key: string;
  constructor(store: IpamStore, subnets: readonly Cidr[]) {
    this.key = subnets.map(formatCidr).join(",");
    this.allocators = subnets.map((s, i) => new PodIpAllocator(store, { ranges: [{ subnet: formatCidr(s) }], rangeSetIndex: i }));
  }

  async allocate(attachment: IpamAttachment): Promise<PodIpAllocation[]> {
    const out: PodIpAllocation[] = [];
    try {
      for (const a of this.allocators) out.push(await a.allocate(attachment));
      return out;
    } catch (err) {
      if (out.length > 0) for (const a of this.allocators) await a.release(attachment).catch(() => {});
      if (err instanceof DuplicateAllocationError) {
        throw new CniError(CNI_ERROR.alreadyExists, err.message, { details: `(containerID, ifname) = (${attachment.containerId}, ${attachment.ifname})`, cause: err });
      }
      if (err instanceof RangeSetExhaustedError) throw new CniError(CNI_ERROR.addressesExhausted, err.message, { cause: err });
      throw err;
    }
  }
}
