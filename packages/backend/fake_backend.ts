import type { NetConf } from "@weft/netconf";
import type { Lease, LeaseEvent } from "@weft/subnet";
import type { IpAddr } from "@weft/ipam";
import type { Backend, Network, RegisterNetworkOptions } from "./types.ts";

/** Options for {@linkcode FakeBackend}. */
export interface FakeBackendOptions {
  /** @default "fake" */
  type?: string;
  /** MTU the network reports; @default 1450 */
  mtu?: number;
  /** Public IP passed to `acquireLease`; @default 192.0.2.1 */
  publicIp?: IpAddr;
  /** Backend data passed to `acquireLease`; @default null */
  backendData?: unknown;
  /** Makes `registerNetwork` reject with this error; @default undefined */
  failWith?: Error;
}

/**
 * A backend for agent tests: `registerNetwork` acquires the lease with the configured attributes
 * and returns a {@linkcode FakeNetwork} that records events and keeps the peer set in memory.
 */
export class FakeBackend implements Backend {
  readonly type: string;
  readonly networks: FakeNetwork[] = [];
  readonly #options: FakeBackendOptions;
  constructor(options: FakeBackendOptions = {}) {
    this.type = (options.type ?? "fake").toLowerCase();
    this.#options = options;
  }
  async registerNetwork(config: NetConf, options: RegisterNetworkOptions): Promise<FakeNetwork> {
    void config;
    if (this.#options.failWith) throw this.#options.failWith;
    const lease = await options.acquireLease(
      { publicIp: this.#options.publicIp ?? { family: 4, address: "192.0.2.1" }, backendType: this.type, backendData: this.#options.backendData ?? null },
      options.signal ? { signal: options.signal } : {},
    );
    const net = new FakeNetwork(lease, this.#options.mtu ?? 1450, this.type);
    this.networks.push(net);
    return net;
  }
}

/** The network of a {@linkcode FakeBackend}. */
export class FakeNetwork implements Network {
  readonly events: LeaseEvent[] = [];
  /** Peers by subnet text, after the events seen so far (own lease and other types ignored). */
  readonly peers = new Map<string, Lease>();
  running = false;
  constructor(
    readonly lease: Lease,
    readonly mtu: number,
    readonly backendType: string,
  ) {}
  async handleLeaseEvent(event: LeaseEvent): Promise<void> {
    this.events.push(event);
    const key = (l: Lease) => (l.subnet ? `${l.subnet.address}/${l.subnet.prefixLength}` : "");
    const keep = (l: Lease) => (l.backendType ?? "") === this.backendType && key(l) !== key(this.lease);
    if (event.type === "snapshot") {
      this.peers.clear();
      for (const l of event.leases) if (keep(l)) this.peers.set(key(l), l);
    } else if (event.type === "added" && keep(event.lease)) this.peers.set(key(event.lease), event.lease);
    else if (event.type === "removed") this.peers.delete(key(event.lease));
  }
  async run(signal: AbortSignal): Promise<void> {
    this.running = true;
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    this.running = false;
  }
  peerErrors(): ReadonlyMap<string, Error> {
    return new Map();
  }
}
