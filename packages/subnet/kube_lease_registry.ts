/**
 * The Kubernetes lease registry (flannel's kube subnet manager, pkg/subnet/kube): a node's subnet is the
 * `spec.podCIDR(s)` Kubernetes assigned to it, and its lease attributes live in flannel's node annotations
 * (`<prefix>/public-ip`, `backend-type`, `backend-data`, `kube-subnet-manager: "true"`, and the v6 variants),
 * written with a strategic-merge PATCH on the node's `status` subresource (RBAC `nodes/status: patch`), so
 * flanneld and weftd nodes see each other during a migration.
 *
 * - `assignedSubnets()` polls the node until a pod CIDR appears (backoff, bounded by `podCidrWaitMs`,
 *   flannel waits 30 s), then checks it lies inside the configured network.
 * - `update()` (what `LeaseManager.acquire` calls) patches only annotations that differ; `public-ip-overwrite`
 *   replaces the published address as in flannel.
 * - `watch()` runs a Node informer (list+watch, relist on 410, resync) and reports `added` only when a field
 *   that matters (subnet, public IP, backend type/data) changes, `removed` when a node is deleted or stops
 *   being a lease, and a `snapshot` after every (re)list.
 * - `markNetworkAvailable()` sets the `NetworkUnavailable=False` condition once the node's network is up
 *   (flannel's CompleteLease with `--set-node-network-unavailable`).
 * - `readNodeAnnotations()` returns what the node published before (backend data with the VTEP MAC, so the
 *   vxlan device keeps its MAC across restarts) and the `node-public-ip`/`*-overwrite` inputs.
 * There are no TTLs: leases carry no `expiration`, and `ttlMs` is ignored.
 */
import { cidrContains, formatCidr } from "@weft/ipam";
import type { Cidr, IpAddr } from "@weft/ipam";
import type { InformerOptions, KubeClient, KubeConfig, V1Node } from "@weft/kube";
import type { NetConf } from "@weft/netconf";
import { LeaseConflictError } from "./errors.ts";
import { DEFAULT_KUBE_ANNOTATION_PREFIX, kubeAnnotationNames } from "./_kube_annotations.ts";
import type { KubeAnnotationNames } from "./_kube_annotations.ts";
import { nodePodCidrs, nodeToLease } from "./_kube_node_lease.ts";
import type { AssignedSubnets, Lease, LeaseAttrs, LeaseRegistry, RegistryEvent, RegistryWatchOptions, RegistryWriteOptions } from "./types.ts";
import { AsyncQueue, abortReason, sleep } from "./_async.ts";
import { kubeModule } from "./_kube_module.ts";

// The helpers live in private files; their public parts are exported from here so that mod.ts needs one line.
export { DEFAULT_KUBE_ANNOTATION_PREFIX, kubeAnnotationNames } from "./_kube_annotations.ts";
export type { KubeAnnotationNames } from "./_kube_annotations.ts";
export { nodePodCidrs, nodeToLease } from "./_kube_node_lease.ts";
export type { NodePodCidrs, NodeToLeaseOptions } from "./_kube_node_lease.ts";
export { resolveNodeName } from "./_kube_node_name.ts";
export type { ResolveNodeNameOptions } from "./_kube_node_name.ts";
import { ipOf } from "./_ip.ts";
import { attrsOf, leaseKey, makeLease, sameAttrs, sameOwner } from "./_lease.ts";

/** The node has no pod CIDR (of the needed family) yet: flannel's `node "<n>" pod cidr not assigned`. */
export class PodCidrNotAssignedError extends Error {
  readonly nodeName: string;
  /** The family that is missing. */
  readonly family: 4 | 6;
  constructor(nodeName: string, family: 4 | 6, options?: ErrorOptions) {
    super(family === 4 ? `node "${nodeName}" pod cidr not assigned` : `node "${nodeName}" ipv6 pod cidr not assigned`, options);
    this.name = "PodCidrNotAssignedError";
    this.nodeName = nodeName;
    this.family = family;
  }
}

/** The node's pod CIDR lies outside the configured network (flannel's text, naming both). */
export class PodCidrOutsideNetworkError extends Error {
  readonly nodeName: string;
  /** The node's pod CIDR, e.g. `10.245.1.0/24`. */
  readonly podCidr: string;
  /** The configured network, e.g. `10.244.0.0/16`. */
  readonly network: string;
  constructor(nodeName: string, podCidr: string, network: string) {
    super(`subnet "${network}" specified in the flannel net config doesn't contain "${podCidr}" PodCIDR of the "${nodeName}" node`);
    this.name = "PodCidrOutsideNetworkError";
    this.nodeName = nodeName;
    this.podCidr = podCidr;
    this.network = network;
  }
}

/** What a node published before and the inputs annotated on it (see {@linkcode KubeLeaseRegistry.readNodeAnnotations}). */
export interface KubeNodeAnnotations {
  /** `<p>/backend-type` as stored. */
  readonly backendType?: string;
  /** `<p>/backend-data` parsed (e.g. `{ VNI: 1, VtepMAC: "…" }`); undefined when absent or not JSON. */
  readonly backendData?: unknown;
  /** `<p>/backend-v6-data` parsed. */
  readonly backendV6Data?: unknown;
  /** `VtepMAC` from backend-data, when present: reuse it so the vxlan device keeps its MAC across restarts. */
  readonly vtepMac?: string;
  /** `VtepMAC` from backend-v6-data. */
  readonly vtepV6Mac?: string;
  /** `<p>/public-ip` as published. */
  readonly publicIp?: IpAddr;
  readonly publicIpv6?: IpAddr;
  /** `<p>/node-public-ip` (input: use as the public IP). */
  readonly nodePublicIp?: IpAddr;
  readonly nodePublicIpv6?: IpAddr;
  /** `<p>/public-ip-overwrite` (input: published instead of the public IP). */
  readonly publicIpOverwrite?: IpAddr;
  readonly publicIpv6Overwrite?: IpAddr;
}

/** Options for {@linkcode KubeLeaseRegistry}. */
export interface KubeLeaseRegistryOptions {
  /** Annotation prefix (flannel's `--kube-annotation-prefix`). @default "flannel.alpha.coreos.com" */
  annotationPrefix?: string;
  /** How long `assignedSubnets()` waits for a pod CIDR before failing. @default 30000 (flannel: 30 s) */
  podCidrWaitMs?: number;
  /** First wait between pod-CIDR polls; it doubles up to `podCidrPollMaxMs`. @default 250 */
  podCidrPollMs?: number;
  /** Longest wait between pod-CIDR polls. @default 3000 (flannel polls every 3 s) */
  podCidrPollMaxMs?: number;
  /** Called before each wait for a missing pod CIDR (for logging). @default undefined */
  onPodCidrWait?(err: Error): void;
  /** How long status patches are retried. @default 30000 (flannel: every 3 s for 30 s) */
  patchTimeoutMs?: number;
  /** Wait between failed status patches. @default 3000 */
  patchRetryMs?: number;
  /** Resync period of the watch's Node informer. @default 300000 (flannel: 5 min) */
  resyncMs?: number;
  /** More options for the watch's Node informer (backoff, watch timeout, error reporting). @default {} */
  informer?: Omit<InformerOptions, "namespace" | "resyncMs">;
  /** `reason` of the NetworkUnavailable=False condition. @default "FlannelIsUp" (flannel's, for interoperability) */
  conditionReason?: string;
  /** `message` of the NetworkUnavailable=False condition. @default "Flannel is running on this node" */
  conditionMessage?: string;
}

/** A {@linkcode LeaseRegistry} on Kubernetes Node objects; see the module notes. */
export class KubeLeaseRegistry implements LeaseRegistry {
  readonly name = "kube";
  /** This node's name (from `resolveNodeName()`). */
  readonly nodeName: string;
  /** The annotation names under the configured prefix. */
  readonly annotations: KubeAnnotationNames;
  readonly #kc: KubeConfig;
  #client: KubeClient | undefined;
  readonly #o: KubeLeaseRegistryOptions;

  /** @throws {TypeError} for an empty node name or an invalid annotation prefix (flannel's texts) */
  constructor(kubeConfig: KubeConfig, nodeName: string, options: KubeLeaseRegistryOptions = {}) {
    if (!nodeName) throw new TypeError("KubeLeaseRegistry: nodeName must not be empty");
    this.nodeName = nodeName;
    this.annotations = kubeAnnotationNames(options.annotationPrefix ?? DEFAULT_KUBE_ANNOTATION_PREFIX);
    this.#kc = kubeConfig;
    this.#o = options;
  }

  /** The client, created on first use (see `_kube_module.ts`). */
  async #api(): Promise<KubeClient> {
    if (!this.#client) {
      const { KubeClient } = await kubeModule();
      this.#client ??= new KubeClient(this.#kc);
    }
    return this.#client;
  }

  /**
   * This node's pod CIDR(s) for the enabled families, checked against `config.network`/`ipv6Network`. Waits
   * (backoff, up to `podCidrWaitMs`) while the node is missing or has no pod CIDR yet.
   * @throws {PodCidrNotAssignedError} when none appeared in time
   * @throws {PodCidrOutsideNetworkError} when the pod CIDR is outside the network
   */
  async assignedSubnets(config: NetConf, options: { signal?: AbortSignal } = {}): Promise<AssignedSubnets> {
    const signal = options.signal;
    const deadline = Date.now() + (this.#o.podCidrWaitMs ?? 30_000);
    let delay = this.#o.podCidrPollMs ?? 250;
    const maxDelay = this.#o.podCidrPollMaxMs ?? 3000;
    for (;;) {
      let waitFor: Error;
      try {
        const node = await (await this.#api()).getNode(this.nodeName, signal ? { signal } : {});
        const cidrs = nodePodCidrs(node);
        if (config.enableIPv4 && !cidrs.subnet) throw new PodCidrNotAssignedError(this.nodeName, 4);
        if (config.enableIPv6 && !cidrs.ipv6Subnet) throw new PodCidrNotAssignedError(this.nodeName, 6);
        const out: { subnet?: Cidr; ipv6Subnet?: Cidr } = {};
        if (config.enableIPv4 && cidrs.subnet) out.subnet = this.#checkInside(cidrs.subnet, config.network);
        if (config.enableIPv6 && cidrs.ipv6Subnet) out.ipv6Subnet = this.#checkInside(cidrs.ipv6Subnet, config.ipv6Network);
        return out;
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (err instanceof PodCidrOutsideNetworkError || err instanceof SyntaxError) throw err;
        waitFor = err as Error;
      }
      if (Date.now() + delay > deadline) throw waitFor;
      this.#o.onPodCidrWait?.(waitFor);
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  }

  #checkInside(podCidr: Cidr, network: Cidr | undefined): Cidr {
    if (!network || !cidrContains(network, podCidr)) {
      throw new PodCidrOutsideNetworkError(this.nodeName, formatCidr(podCidr), network ? formatCidr(network) : "<none>");
    }
    return podCidr;
  }

  /** Every node's lease (nodes with `kube-subnet-manager: "true"` and a pod CIDR; malformed ones skipped). */
  async list(options: { signal?: AbortSignal } = {}): Promise<Lease[]> {
    const { NODES } = await kubeModule();
    // In pages of 500, as the informers read Nodes (one answer for every Node would be large on a big cluster).
    const { items } = await (await this.#api()).listAll(NODES, options.signal ? { signal: options.signal } : {});
    return items.flatMap((n) => {
      const l = this.#lease(n);
      return l ? [l] : [];
    });
  }

  /** Same as {@linkcode update}: Kubernetes, not the registry, decides which subnet a node holds. */
  create(lease: Lease, options: RegistryWriteOptions = {}): Promise<Lease> {
    return this.update(lease, options);
  }

  /**
   * Publishes the lease on this node: patches the annotations that differ (nothing when all match).
   * @throws {LeaseConflictError} when the lease's subnets are not this node's pod CIDRs
   */
  async update(lease: Lease, options: RegistryWriteOptions = {}): Promise<Lease> {
    const signal = options.signal;
    const node = await (await this.#api()).getNode(this.nodeName, signal ? { signal } : {});
    const cidrs = nodePodCidrs(node);
    const key = leaseKey(lease);
    const differs = (a: Cidr | undefined, b: Cidr | undefined) => (a ? !b || formatCidr(a) !== formatCidr(b) : false);
    if (differs(lease.subnet, cidrs.subnet) || differs(lease.ipv6Subnet, cidrs.ipv6Subnet)) {
      const has = [cidrs.subnet, cidrs.ipv6Subnet].filter((c): c is Cidr => !!c).map(formatCidr).join(",") || "none";
      throw new LeaseConflictError(key, { reason: `node "${this.nodeName}" has pod cidr ${has}` });
    }
    const a = this.annotations;
    const current = node.metadata?.annotations ?? {};
    const attrs: { -readonly [K in keyof LeaseAttrs]: LeaseAttrs[K] } = { ...attrsOf(lease) };
    const want: Record<string, string> = {};
    if (lease.subnet) {
      want[a.backendData] = JSON.stringify(lease.backendData ?? null);
      const over = ipOf(current[a.publicIpOverwrite] ?? "");
      const ip = over?.family === 4 ? over : lease.publicIp;
      if (ip) {
        want[a.publicIp] = ip.address;
        attrs.publicIp = ip;
      }
    }
    if (lease.ipv6Subnet) {
      want[a.backendV6Data] = JSON.stringify(lease.backendV6Data ?? null);
      const over = ipOf(current[a.publicIpv6Overwrite] ?? "");
      const ip = over?.family === 6 ? over : lease.publicIpv6;
      if (ip) {
        want[a.publicIpv6] = ip.address;
        attrs.publicIpv6 = ip;
      }
    }
    want[a.backendType] = lease.backendType ?? "";
    want[a.kubeSubnetManager] = "true";
    const patch: Record<string, string> = {};
    for (const [k, v] of Object.entries(want)) if (current[k] !== v) patch[k] = v;
    if (Object.keys(patch).length > 0) await this.#patchStatus({ metadata: { annotations: patch } }, signal);
    return makeLease(lease, attrs);
  }

  /**
   * Withdraws this node's lease (removes the lease annotations) if the node still publishes it with the same
   * owner; `false` when there was nothing to remove or another owner's lease.
   */
  async delete(lease: Lease, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    let node: V1Node;
    try {
      node = await (await this.#api()).getNode(this.nodeName, options.signal ? { signal: options.signal } : {});
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    const held = this.#lease(node);
    if (!held || leaseKey(held) !== leaseKey(lease) || !sameOwner(held, lease)) return false;
    const a = this.annotations;
    const annotations: Record<string, null> = {};
    for (const k of [a.kubeSubnetManager, a.publicIp, a.publicIpv6, a.backendType, a.backendData, a.backendV6Data]) {
      if (node.metadata?.annotations?.[k] !== undefined) annotations[k] = null;
    }
    await this.#patchStatus({ metadata: { annotations } }, options.signal);
    return true;
  }

  /**
   * Streams lease events from a Node informer until `signal` aborts: a `snapshot` after the first list and
   * after every relist (410 Gone), then `added` for new leases and for changes of subnet, public IP or backend
   * type/data (other node changes, heartbeats and resyncs report nothing), `removed` for deleted nodes and
   * nodes that stop publishing a lease.
   */
  watch(options: RegistryWatchOptions): AsyncIterable<RegistryEvent> {
    const stop = new AbortController();
    const onAbort = () => {
      stop.abort();
      queue.close();
    };
    const queue = new AsyncQueue<RegistryEvent>(() => {
      options.signal.removeEventListener("abort", onAbort);
      stop.abort();
    });
    if (options.signal.aborted) {
      queue.close();
      return queue;
    }
    options.signal.addEventListener("abort", onAbort, { once: true });
    const leases = new Map<string, Lease>(); // by node name
    let synced = false;
    const nameOf = (n: V1Node) => n.metadata?.name ?? "";
    const changed = (n: V1Node) => {
      if (!synced) return;
      const next = this.#lease(n);
      const prev = leases.get(nameOf(n));
      if (!next) {
        if (prev) {
          leases.delete(nameOf(n));
          queue.push({ type: "removed", lease: prev });
        }
        return;
      }
      if (prev && leaseKey(prev) === leaseKey(next) && sameAttrs(prev, next)) return;
      if (prev && leaseKey(prev) !== leaseKey(next)) queue.push({ type: "removed", lease: prev });
      leases.set(nameOf(n), next);
      queue.push({ type: "added", lease: next });
    };
    const start = async () => {
      const { createNodeInformer } = await kubeModule();
      const informer = createNodeInformer(this.#kc, { ...this.#o.informer, resyncMs: this.#o.resyncMs ?? 300_000 });
      informer.on({
        add: changed,
        update: (n, old) => {
          if (n !== old) changed(n);
        },
        delete: (n) => {
          if (!synced) return;
          const prev = leases.get(nameOf(n));
          if (!prev) return;
          leases.delete(nameOf(n));
          queue.push({ type: "removed", lease: prev });
        },
        synced: () => {
          synced = true;
          leases.clear();
          for (const n of informer.cache.list()) {
            const l = this.#lease(n);
            if (l) leases.set(nameOf(n), l);
          }
          queue.push({ type: "snapshot", leases: [...leases.values()] });
        },
      });
      await informer.run(stop.signal);
    };
    start().then(
      () => queue.close(),
      (err: unknown) => queue.fail(err),
    );
    return queue;
  }

  /**
   * Sets the node condition `NetworkUnavailable=False` (reason `FlannelIsUp`, message `Flannel is running on this
   * node` by default) unless it is already set that way. Call it once the node's network is ready.
   */
  async markNetworkAvailable(options: { signal?: AbortSignal } = {}): Promise<void> {
    const node = await (await this.#api()).getNode(this.nodeName, options.signal ? { signal: options.signal } : {});
    const reason = this.#o.conditionReason ?? "FlannelIsUp";
    const message = this.#o.conditionMessage ?? "Flannel is running on this node";
    const cur = node.status?.conditions?.find((c) => c.type === "NetworkUnavailable");
    if (cur && cur.status === "False" && cur.reason === reason && cur.message === message) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const condition = { type: "NetworkUnavailable", status: "False", reason, message, lastTransitionTime: now, lastHeartbeatTime: now };
    await this.#patchStatus({ status: { conditions: [condition] } }, options.signal);
  }

  /** What this node published before (backend data and VTEP MAC, public IPs) and its input annotations. */
  async readNodeAnnotations(options: { signal?: AbortSignal } = {}): Promise<KubeNodeAnnotations> {
    const node = await (await this.#api()).getNode(this.nodeName, options.signal ? { signal: options.signal } : {});
    const ann = node.metadata?.annotations ?? {};
    const a = this.annotations;
    const out: { -readonly [K in keyof KubeNodeAnnotations]: KubeNodeAnnotations[K] } = {};
    const json = (k: string): unknown => {
      try {
        return ann[k] === undefined ? undefined : (JSON.parse(ann[k]!) as unknown);
      } catch {
        return undefined;
      }
    };
    const mac = (v: unknown): string | undefined => {
      const m = typeof v === "object" && v !== null ? (v as { VtepMAC?: unknown }).VtepMAC : undefined;
      return typeof m === "string" && m !== "" ? m : undefined;
    };
    const ip = (k: string, family: 4 | 6): IpAddr | undefined => {
      const v = ipOf(ann[k] ?? "");
      return v?.family === family ? v : undefined;
    };
    if (ann[a.backendType]) out.backendType = ann[a.backendType];
    const bd = json(a.backendData);
    if (bd !== undefined) out.backendData = bd;
    const bd6 = json(a.backendV6Data);
    if (bd6 !== undefined) out.backendV6Data = bd6;
    const m4 = mac(bd);
    if (m4) out.vtepMac = m4;
    const m6 = mac(bd6);
    if (m6) out.vtepV6Mac = m6;
    const fields: Array<[keyof KubeNodeAnnotations, string, 4 | 6]> = [
      ["publicIp", a.publicIp, 4],
      ["publicIpv6", a.publicIpv6, 6],
      ["nodePublicIp", a.nodePublicIp, 4],
      ["nodePublicIpv6", a.nodePublicIpv6, 6],
      ["publicIpOverwrite", a.publicIpOverwrite, 4],
      ["publicIpv6Overwrite", a.publicIpv6Overwrite, 6],
    ];
    for (const [field, key, family] of fields) {
      const v = ip(key, family);
      if (v) (out as Record<string, unknown>)[field] = v;
    }
    return out;
  }

  #lease(node: V1Node): Lease | undefined {
    try {
      return nodeToLease(node, { annotations: this.annotations });
    } catch {
      return undefined; // flannel logs and skips nodes whose annotations do not parse
    }
  }

  async #patchStatus(patch: unknown, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + (this.#o.patchTimeoutMs ?? 30_000);
    const retryMs = this.#o.patchRetryMs ?? 3000;
    for (;;) {
      try {
        await (await this.#api()).patchNodeStatus(this.nodeName, patch, signal ? { signal } : {});
        return;
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        if (isNotFound(err) || Date.now() + retryMs > deadline) throw err;
      }
      await sleep(retryMs, signal);
    }
  }
}

/** Same test as @weft/kube's `isNotFound`, without loading it. */
function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { statusCode?: unknown }).statusCode === 404;
}
