import type { ExternalInterface, FdbEntry, KernelEntries, Logger, NeighbourEntry, RouteEntry } from "@weft/backend";
import { cidrText, lookupDirectRoute, PeerError, RouteNetwork } from "@weft/backend";
import type { Cidr } from "@weft/ipam";
import type { IpRoute } from "@weft/iproute";
import type { NetConf } from "@weft/netconf";
import type { Lease } from "@weft/subnet";
import { configureVxlanDevice, ensureVxlanDevice, watchLinkDeletion, type VxlanDeviceSpec } from "./device.ts";
import { parseVxlanBackendData } from "./vxlan_backend_data.ts";

/** Options for {@linkcode VxlanNetwork}. */
export interface VxlanNetworkOptions {
  readonly config: NetConf;
  readonly lease: Lease;
  readonly mtu: number;
  /** The device as created at registration (recreated from this spec when it disappears). */
  readonly device: VxlanDeviceSpec;
  readonly externalInterface: ExternalInterface;
  readonly iproute: IpRoute;
  /** Route peers on the same L2 directly instead of through the tunnel; @default false */
  readonly directRouting?: boolean;
  /** @default noopLogger */
  readonly logger?: Logger;
  /** @default 10000 */
  readonly resyncMs?: number;
}

/**
 * vxlan's network (IPv4). Per peer, in this order (so the kernel never ARPs for a peer):
 * 1. `ip neigh replace <peer subnet .0> lladdr <VtepMAC> dev flannel.1 nud permanent`
 * 2. `bridge fdb replace <VtepMAC> dev flannel.1 dst <peer public IP> self permanent`
 * 3. `ip route replace <peer subnet> via <peer subnet .0> dev flannel.1 onlink`
 * With DirectRouting, a peer whose public IP is directly reachable (one route, no gateway) gets
 * `ip route replace <peer subnet> via <public IP> dev <that interface>` instead.
 *
 * Better than flannel: when a peer's VtepMAC changes, its old FDB entry is removed (flannel leaks
 * it, #1330/#533); when flannel.1 is deleted by anyone, it is recreated with its address and all
 * peer entries — on the link-deletion event and, as a backstop, at every periodic re-check.
 */
export class VxlanNetwork extends RouteNetwork {
  readonly #options: VxlanNetworkOptions;
  readonly #ownAddress: Cidr | undefined;

  constructor(options: VxlanNetworkOptions) {
    const own = [options.lease.subnet, options.lease.ipv6Subnet].filter((c): c is Cidr => c !== undefined);
    super({
      backendType: "vxlan",
      lease: options.lease,
      mtu: options.mtu,
      iproute: options.iproute,
      ownership: {
        entryDevices: [options.device.name],
        // the external interface too: direct routes, and leftovers when DirectRouting is switched off
        routeDevices: [options.device.name, options.externalInterface.name],
        routeNetworks: [options.config.network].filter((c): c is Cidr => c !== undefined),
        exclude: own,
      },
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.resyncMs === undefined ? {} : { resyncMs: options.resyncMs }),
    });
    this.#options = options;
    this.#ownAddress = options.lease.subnet && { family: 4, address: options.lease.subnet.address, prefixLength: 32 };
  }

  /** The vxlan device name, e.g. `flannel.1`. */
  get deviceName(): string {
    return this.#options.device.name;
  }

  protected override async beforeReconcile(): Promise<void> {
    const link = await this.iproute.link.get(this.deviceName);
    if (!link) {
      this.log.warn({ device: this.deviceName }, "vxlan device is gone; recreating it");
      await ensureVxlanDevice(this.iproute, this.#options.device, { logger: this.log });
    }
    const network = this.#options.config.network;
    if (!this.#ownAddress || !network) return;
    const want = `${this.#ownAddress.address}/32`;
    const ok = link?.up && (await this.iproute.address.list({ dev: this.deviceName, family: 4 })).some((a) => a.cidr === want);
    if (!ok) {
      if (link) this.log.warn({ device: this.deviceName }, "vxlan device is down or lost its address; reconfiguring it");
      await configureVxlanDevice(this.iproute, this.deviceName, { address: this.#ownAddress, network });
    }
  }

  protected override async watch(signal: AbortSignal, trigger: () => void): Promise<void> {
    await watchLinkDeletion(this.iproute, this.deviceName, { signal, onDeleted: trigger });
  }

  protected override async peerEntries(peer: Lease): Promise<KernelEntries> {
    const neighbours: NeighbourEntry[] = [];
    const fdb: FdbEntry[] = [];
    const routes: RouteEntry[] = [];
    if (!peer.subnet) return { neighbours, fdb, routes };
    const key = cidrText(peer.subnet);
    if (!peer.publicIp) throw new PeerError(key, "lease has no public IP");
    if (this.#options.directRouting) {
      const direct = await lookupDirectRoute(this.iproute, peer.publicIp);
      if (direct) {
        routes.push({ dst: key, via: peer.publicIp.address, dev: direct.dev });
        return { neighbours, fdb, routes };
      }
    }
    let mac: string;
    try {
      mac = parseVxlanBackendData(peer.backendData).vtepMac;
    } catch (err) {
      throw new PeerError(key, `cannot decode backend data: ${(err as Error).message}`, { cause: err });
    }
    const dev = this.deviceName;
    neighbours.push({ dev, address: peer.subnet.address, lladdr: mac });
    fdb.push({ dev, lladdr: mac, dst: peer.publicIp.address });
    routes.push({ dst: key, via: peer.subnet.address, dev, onlink: true });
    return { neighbours, fdb, routes };
  }
}
