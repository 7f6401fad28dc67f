import type { V1Node } from "@weft/kube";
import type { Cidr } from "@weft/ipam";
import { kubeAnnotationNames } from "./_kube_annotations.ts";
import type { KubeAnnotationNames } from "./_kube_annotations.ts";
import type { Lease, LeaseAttrs } from "./types.ts";
import { cidrOf, ipOf } from "./_ip.ts";

/** The subnets Kubernetes assigned to a node (`spec.podCIDRs`, else `spec.podCIDR`), by family. */
export interface NodePodCidrs {
  readonly subnet?: Cidr;
  readonly ipv6Subnet?: Cidr;
}

/**
 * Reads a node's pod CIDRs as flannel does: `spec.podCIDRs` (at most one per family), else `spec.podCIDR`.
 * Returns `{}` when none is assigned.
 * @throws {SyntaxError} `pod cidrs should be IPv4/IPv6 only or dualstack` for 3 or more (or two of one family),
 *   or for a CIDR that does not parse
 */
export function nodePodCidrs(node: V1Node): NodePodCidrs {
  const list = node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
  if (list.length > 2) throw new SyntaxError("pod cidrs should be IPv4/IPv6 only or dualstack");
  const out: { subnet?: Cidr; ipv6Subnet?: Cidr } = {};
  for (const text of list) {
    const cidr = cidrOf(text, text.includes(":") ? 6 : 4);
    if (!cidr) throw new SyntaxError(`node "${node.metadata?.name ?? ""}" has an invalid pod cidr "${text}"`);
    if (cidr.family === 4) {
      if (out.subnet) throw new SyntaxError("pod cidrs should be IPv4/IPv6 only or dualstack");
      out.subnet = cidr;
    } else {
      if (out.ipv6Subnet) throw new SyntaxError("pod cidrs should be IPv4/IPv6 only or dualstack");
      out.ipv6Subnet = cidr;
    }
  }
  return out;
}

/** Options for {@linkcode nodeToLease}. */
export interface NodeToLeaseOptions {
  /** Annotation names. @default kubeAnnotationNames() (prefix `flannel.alpha.coreos.com`) */
  annotations?: KubeAnnotationNames;
}

/**
 * The lease a node publishes (flannel's `nodeToLease`): its pod CIDR(s) plus the `public-ip`, `public-ipv6`,
 * `backend-type`, `backend-data` and `backend-v6-data` annotations. Returns `undefined` for nodes without
 * `<p>kube-subnet-manager: "true"` or without a pod CIDR (not a lease yet).
 * @throws {SyntaxError} when an annotation or pod CIDR is malformed (the registry skips such nodes)
 */
export function nodeToLease(node: V1Node, options: NodeToLeaseOptions = {}): Lease | undefined {
  const names = options.annotations ?? kubeAnnotationNames();
  const ann = node.metadata?.annotations ?? {};
  if (ann[names.kubeSubnetManager] !== "true") return undefined;
  const cidrs = nodePodCidrs(node);
  if (!cidrs.subnet && !cidrs.ipv6Subnet) return undefined;
  const name = node.metadata?.name ?? "";
  const attrs: { -readonly [K in keyof LeaseAttrs]: LeaseAttrs[K] } = {};
  const ip = (key: string, family: 4 | 6) => {
    const text = ann[key];
    if (text === undefined || text === "") return undefined;
    const parsed = ipOf(text);
    if (!parsed || parsed.family !== family) throw new SyntaxError(`node "${name}" annotation ${key} is not an IPv${family} address: "${text}"`);
    return parsed;
  };
  const json = (key: string) => {
    const text = ann[key];
    if (text === undefined || text === "") return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new SyntaxError(`node "${name}" annotation ${key} is not JSON: ${(cause as Error).message}`);
    }
  };
  const publicIp = ip(names.publicIp, 4);
  const publicIpv6 = ip(names.publicIpv6, 6);
  if (publicIp) attrs.publicIp = publicIp;
  if (publicIpv6) attrs.publicIpv6 = publicIpv6;
  if (ann[names.backendType]) attrs.backendType = ann[names.backendType];
  const bd = json(names.backendData);
  if (bd !== undefined) attrs.backendData = bd;
  const bd6 = json(names.backendV6Data);
  if (bd6 !== undefined) attrs.backendV6Data = bd6;
  return { ...cidrs, ...attrs };
}
