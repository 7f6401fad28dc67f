import type { IpAddr } from "@weft/ipam";
import type { IpRoute, IpSession } from "@weft/iproute";
import type { NetConf } from "@weft/netconf";
import type { Lease, LeaseAttrs, LeaseEvent } from "@weft/subnet";

/**
 * A pino-compatible logger (`{ debug, info, warn, error }`, object first then message).
 * A pino instance can be passed as is; {@linkcode noopLogger} is the default everywhere.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * The node's underlay interface, as flannel's `backend.ExternalInterface`: the interface the
 * overlay is carried on, its own addresses, and the public addresses peers use to reach this
 * node (equal to the interface addresses unless the node is behind NAT or `--public-ip` is set).
 */
export interface ExternalInterface {
  /** Interface name, e.g. `eth0`. */
  readonly name: string;
  /** Kernel interface index (`vxlan dev` is set from it). */
  readonly index: number;
  /** Interface MTU; backends derive their MTU from it unless the config sets `MTU`. */
  readonly mtu: number;
  /** The IPv4 address on the interface (flannel's IfaceAddr), e.g. `192.168.1.11`. */
  readonly address?: IpAddr;
  /** The IPv6 address on the interface (flannel's IfaceV6Addr). */
  readonly addressV6?: IpAddr;
  /** The IPv4 address peers use (flannel's ExtAddr); @default address */
  readonly publicIp?: IpAddr;
  /** The IPv6 address peers use (flannel's ExtV6Addr); @default addressV6 */
  readonly publicIpv6?: IpAddr;
}

/** Options for {@linkcode Backend.registerNetwork}. */
export interface RegisterNetworkOptions {
  /**
   * Acquires (or re-acquires) this node's lease with the attributes the backend publishes.
   * The agent wires this to its lease store (`store.acquire(netConf, attrs, { previousSubnet })`);
   * the backend calls it once, after creating its devices and before programming addresses that
   * depend on the lease subnet. `attrs` carries publicIp/publicIpv6, backendType and backendData.
   */
  acquireLease(attrs: LeaseAttrs, options?: { signal?: AbortSignal }): Promise<Lease>;
  /**
   * The backend data of this node's previous lease (from the store or node annotation), so
   * that state published to peers survives restarts (vxlan keeps its VtepMAC); @default undefined
   */
  previousBackendData?: unknown;
  /** The same for IPv6 (the previous lease's `backendV6Data`; vxlan keeps flannel-v6's VtepMAC); @default undefined */
  previousBackendV6Data?: unknown;
  /** Aborts a registration that is still in progress; @default undefined */
  signal?: AbortSignal;
}

/** A running network of one backend on this node (flannel's `backend.Network`). */
export interface Network {
  /** This node's lease, as acquired during registration. */
  readonly lease: Lease;
  /** The pod MTU to publish in subnet.env (`FLANNEL_MTU`). */
  readonly mtu: number;
  /** The lower-cased backend type, e.g. `vxlan`. */
  readonly backendType: string;
  /**
   * Applies one lease event (snapshot, added, removed) to the kernel. Leases of other backend
   * types and this node's own lease are ignored (logged). Errors for single peers are logged
   * and reported through {@linkcode Network.peerErrors}; the promise rejects only when the whole
   * update could not be applied.
   *
   * Callers (weftd) do not await one event before passing the next, so that a burst is applied in
   * one kernel pass: an implementation must record the event synchronously, before its first
   * `await`, so that events take effect in the order they were passed (RouteNetwork does). Events
   * applied by the same pass may get the same promise.
   */
  handleLeaseEvent(event: LeaseEvent): Promise<void>;
  /**
   * Keeps the kernel state converged until `signal` aborts: re-checks periodically and, for
   * device-based backends, recreates the device when someone deletes it. Resolves after abort.
   */
  run(signal: AbortSignal): Promise<void>;
  /** The peers (keyed by lease subnet, e.g. `10.244.2.0/24`) whose entries could not be programmed, with why. */
  peerErrors(): ReadonlyMap<string, Error>;
}

/** A backend type (flannel's `backend.Backend`). */
export interface Backend {
  /** The lower-cased `Backend.Type` this backend serves, e.g. `vxlan`. */
  readonly type: string;
  /** Creates devices, acquires the lease through `options.acquireLease`, and returns the running network. */
  registerNetwork(config: NetConf, options: RegisterNetworkOptions): Promise<Network>;
}

/** What every backend factory receives from the agent. */
export interface BackendDeps {
  /** Kernel access, bound to the node's network namespace. */
  readonly iproute: IpRoute;
  /** The underlay interface. */
  readonly externalInterface: ExternalInterface;
  /** @default noopLogger */
  readonly logger?: Logger;
  /** How often kernel state is re-checked and repaired; @default 10000 (flannel's routeCheck period) */
  readonly resyncMs?: number;
  /**
   * Opens a long-lived `ip -batch -` session in the same namespace as `iproute` (e.g. `() => createIpSession()`);
   * networks then write small batches through it instead of starting `ip` per batch (see
   * `IprouteEntriesOptions`). @default none (every batch starts its own process)
   */
  readonly ipSession?: () => IpSession;
}

/** Builds a backend; third-party backend packages export one of these. */
export type BackendFactory = (deps: BackendDeps) => Backend;

