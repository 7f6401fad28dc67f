import type { ExternalInterface, KernelEntries, Logger, RouteEntry } from "@weft/backend";
import { cidrText, PeerError, RouteNetwork } from "@weft/backend";
import type { IpAddr, Cidr } from "@weft/ipam";
import type { IpRoute, IpSession } from "@weft/iproute";
import type { NetConf } from "@weft/netconf";
import type { Lease } from "@weft/subnet";

/** Options for {@linkcode HostGwNetwork}. */
export interface HostGwNetworkOptions {
  readonly config: NetConf;
  readonly lease: Lease;
  readonly externalInterface: ExternalInterface;
  readonly iproute: IpRoute;
  /** Opens a long-lived `ip -batch -` session in the namespace of `iproute`, for small writes (see RouteNetworkOptions.ipSession). @default none */
  readonly ipSession?: () => IpSession;
  /** @default noopLogger */
  readonly logger?: Logger;
  /** @default 10000 */
  readonly resyncMs?: number;
}

/**
 * host-gw's network: per peer one route `<peer subnet> via <peer public IP> dev <ext>`, for each
 * enabled family. MTU = the external interface MTU (no overhead).
 *
 * A peer whose public IP is not directly reachable on the external interface (another L2 network,
 * or only via a gateway) gets a {@linkcode PeerError} that says so, instead of flannel's bare
 * "network is unreachable" from the kernel; every other peer is still served.
 */
export class HostGwNetwork extends RouteNetwork {
  readonly #ext: ExternalInterface;
  readonly #config: NetConf;

  constructor(options: HostGwNetworkOptions) {
    const own = [options.lease.subnet, options.lease.ipv6Subnet].filter((c): c is Cidr => c !== undefined);
    super({
      backendType: "host-gw",
      lease: options.lease,
      mtu: options.externalInterface.mtu,
      iproute: options.iproute,
      ...(options.ipSession ? { ipSession: options.ipSession } : {}),
      ownership: {
        entryDevices: [],
        routeDevices: [options.externalInterface.name],
        routeNetworks: [options.config.network, options.config.ipv6Network].filter((c): c is Cidr => c !== undefined),
        exclude: own,
      },
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.resyncMs === undefined ? {} : { resyncMs: options.resyncMs }),
    });
    this.#ext = options.externalInterface;
    this.#config = options.config;
  }

  protected override async peerEntries(peer: Lease): Promise<KernelEntries> {
    const routes: RouteEntry[] = [];
    if (this.#config.enableIPv4 && peer.subnet) routes.push(await this.#route(peer.subnet, peer.publicIp));
    if (this.#config.enableIPv6 && peer.ipv6Subnet) routes.push(await this.#route(peer.ipv6Subnet, peer.publicIpv6));
    return { neighbours: [], fdb: [], routes };
  }

  async #route(subnet: Cidr, gateway: IpAddr | undefined): Promise<RouteEntry> {
    const dst = cidrText(subnet);
    if (!gateway) throw new PeerError(dst, `lease has no IPv${subnet.family} public IP to route via`);
    // flannel's DirectRouting test (`ip route get`: a unicast route without a gateway), with the reason when it fails
    const r = await this.iproute.route.get(gateway.address);
    const problem = !r
      ? "not reachable from this node"
      : r.via
        ? `reachable only through the gateway ${r.via}`
        : r.type !== "unicast" || !r.dev
          ? `a ${r.type} address on this node`
          : r.dev !== this.#ext.name
            ? `reachable on ${r.dev}, not on ${this.#ext.name}`
            : undefined;
    if (problem) throw new PeerError(dst, `host-gw needs peers on the same L2 network: ${gateway.address} is ${problem}`);
    return { dst, via: gateway.address, dev: this.#ext.name };
  }
}
