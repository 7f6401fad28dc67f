import type { ExternalInterface, FdbEntry, KernelEntries, Logger, NeighbourEntry, RouteEntry } from "@weft/backend";
import { cidrText, lookupDirectRoute, PeerError, RouteNetwork } from "@weft/backend";
import type { Cidr, IpAddr } from "@weft/ipam";
import type { IpRoute, IpSession } from "@weft/iproute";
import type { NetConf } from "@weft/netconf";
import type { Lease } from "@weft/subnet";
import { configureVxlanDevice, ensureVxlanDevice, watchLinkDeletion, type VxlanDeviceSpec } from "./device.ts";
import { parseVxlanBackendData } from "./vxlan_backend_data.ts";

/** Options for {@linkcode VxlanNetwork}. */
export interface VxlanNetworkOptions {
  readonly config: NetConf;
  readonly lease: Lease;
  readonly mtu: number;
  /** The IPv4 device (`flannel.<VNI>`) as created at registration; recreated from this spec when it disappears. @default none (IPv6 only) */
  readonly device?: VxlanDeviceSpec;
  /** The IPv6 device (`flannel-v6.<VNI>`); @default none (IPv4 only) */
  readonly deviceV6?: VxlanDeviceSpec;
  readonly externalInterface: ExternalInterface;
  readonly iproute: IpRoute;
  /** Opens a long-lived `ip -batch -` session in the namespace of `iproute`, for small writes (see RouteNetworkOptions.ipSession). @default none */
  readonly ipSession?: () => IpSession;
  /** Route peers on the same L2 directly instead of through the tunnel; @default false */
  readonly directRouting?: boolean;
  /** @default noopLogger */
  readonly logger?: Logger;
  /** @default 10000 */
  readonly resyncMs?: number;
}

/** One family's device and what goes with it. */
interface Family {
  readonly spec: VxlanDeviceSpec;
  readonly network: Cidr;
  /** The device's own address, `<lease subnet>/32` or `/128`. */
  readonly address: Cidr | undefined;
  /** Which lease fields this family reads. */
  readonly subnet: (l: Lease) => Cidr | undefined;
  readonly publicIp: (l: Lease) => IpAddr | undefined;
  readonly backendData: (l: Lease) => unknown;
}

/**
 * vxlan's network. Per peer and family, in this order (so the kernel never ARPs for a peer):
 * 1. `ip neigh replace <peer subnet .0> lladdr <VtepMAC> dev flannel.1 nud permanent`
 * 2. `bridge fdb replace <VtepMAC> dev flannel.1 dst <peer public IP> self permanent`
 * 3. `ip route replace <peer subnet> via <peer subnet .0> dev flannel.1 onlink`
 * With DirectRouting, a peer whose public IP is directly reachable (one route, no gateway) gets
 * `ip route replace <peer subnet> via <public IP> dev <that interface>` instead. IPv6 does the
 * same on `flannel-v6.<VNI>` with the lease's `ipv6Subnet`, `publicIpv6` and `backendV6Data`.
 *
 * Better than flannel: when a peer's VtepMAC changes, its old FDB entry is removed (flannel leaks
 * it, #1330/#533); when a device is deleted by anyone, it is recreated with its address and all
 * peer entries — on the link-deletion event and, as a backstop, at every periodic re-check, which
 * also brings a downed device back up with its address.
 */
export class VxlanNetwork extends RouteNetwork {
  readonly #options: VxlanNetworkOptions;
  readonly #families: Family[] = [];

  constructor(options: VxlanNetworkOptions) {
    const { config, lease } = options;
    const families: Family[] = [];
    if (options.device && config.network) {
      families.push({
        spec: options.device,
        network: config.network,
        address: lease.subnet && { family: 4, address: lease.subnet.address, prefixLength: 32 },
        subnet: (l) => l.subnet,
        publicIp: (l) => l.publicIp,
        backendData: (l) => l.backendData,
      });
    }
    if (options.deviceV6 && config.ipv6Network) {
      families.push({
        spec: options.deviceV6,
        network: config.ipv6Network,
        address: lease.ipv6Subnet && { family: 6, address: lease.ipv6Subnet.address, prefixLength: 128 },
        subnet: (l) => l.ipv6Subnet,
        publicIp: (l) => l.publicIpv6,
        backendData: (l) => l.backendV6Data,
      });
    }
    if (families.length === 0) throw new TypeError("device: at least one of device (with config.network) and deviceV6 (with config.ipv6Network) is required");
    super({
      backendType: "vxlan",
      lease,
      mtu: options.mtu,
      iproute: options.iproute,
      ...(options.ipSession ? { ipSession: options.ipSession } : {}),
      ownership: {
        entryDevices: families.map((f) => f.spec.name),
        // the external interface too: direct routes, and leftovers when DirectRouting is switched off
        routeDevices: [...families.map((f) => f.spec.name), options.externalInterface.name],
        routeNetworks: families.map((f) => f.network),
        exclude: [lease.subnet, lease.ipv6Subnet].filter((c): c is Cidr => c !== undefined),
      },
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.resyncMs === undefined ? {} : { resyncMs: options.resyncMs }),
    });
    this.#options = options;
    this.#families = families;
  }

  /** The vxlan device names, e.g. `["flannel.1"]` or `["flannel.1", "flannel-v6.1"]`. */
  get deviceNames(): string[] {
    return this.#families.map((f) => f.spec.name);
  }

  protected override async beforeReconcile(): Promise<void> {
    for (const f of this.#families) {
      const name = f.spec.name;
      const [link, addresses] = await Promise.all([
        this.iproute.link.get(name),
        f.address ? this.iproute.address.list({ dev: name, family: f.address.family }).catch(() => []) : [],
      ]);
      if (!link) {
        this.log.warn({ device: name }, "vxlan device is gone; recreating it");
        await ensureVxlanDevice(this.iproute, f.spec, { logger: this.log });
      }
      if (!f.address) continue;
      const want = `${f.address.address}/${f.address.prefixLength}`;
      const ok = link?.up && addresses.some((a) => a.cidr === want);
      if (!ok) {
        if (link) this.log.warn({ device: name }, "vxlan device is down or lost its address; reconfiguring it");
        await configureVxlanDevice(this.iproute, name, { address: f.address, network: f.network });
      }
    }
  }

  protected override async watch(signal: AbortSignal, trigger: () => void): Promise<void> {
    await Promise.all(this.#families.map((f) => watchLinkDeletion(this.iproute, f.spec.name, { signal, onDeleted: trigger, logger: this.log })));
  }

  protected override peerEntries(peer: Lease): Promise<KernelEntries> | KernelEntries {
    // Synchronous unless DirectRouting has to look a route up (a burst of 1,000 peers then costs no microtask turns).
    return this.#options.directRouting ? this.#directPeerEntries(peer) : this.#entries(peer, new Map());
  }

  async #directPeerEntries(peer: Lease): Promise<KernelEntries> {
    const direct = new Map<Family, string>();
    for (const f of this.#families) {
      const publicIp = f.publicIp(peer);
      const route = f.subnet(peer) && publicIp ? await lookupDirectRoute(this.iproute, publicIp) : undefined;
      if (route) direct.set(f, route.dev);
    }
    return this.#entries(peer, direct);
  }

  /** The entries of `peer`; a family in `direct` gets a route via the public IP on that device instead of the tunnel. */
  #entries(peer: Lease, direct: ReadonlyMap<Family, string>): KernelEntries {
    const neighbours: NeighbourEntry[] = [];
    const fdb: FdbEntry[] = [];
    const routes: RouteEntry[] = [];
    for (const f of this.#families) {
      const subnet = f.subnet(peer);
      if (!subnet) continue;
      const key = cidrText(subnet);
      const publicIp = f.publicIp(peer);
      if (!publicIp) throw new PeerError(key, `lease has no IPv${subnet.family} public IP`);
      const directDev = direct.get(f);
      if (directDev !== undefined) {
        routes.push({ dst: key, via: publicIp.address, dev: directDev });
        continue;
      }
      let mac: string;
      try {
        mac = parseVxlanBackendData(f.backendData(peer)).vtepMac;
      } catch (err) {
        throw new PeerError(key, `cannot decode backend data: ${(err as Error).message}`, { cause: err });
      }
      const dev = f.spec.name;
      neighbours.push({ dev, address: subnet.address, lladdr: mac });
      fdb.push({ dev, lladdr: mac, dst: publicIp.address });
      routes.push({ dst: key, via: subnet.address, dev, onlink: true });
    }
    return { neighbours, fdb, routes };
  }
}
