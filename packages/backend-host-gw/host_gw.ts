import type { Backend, BackendDeps, ExternalInterface, Logger, Network, RegisterNetworkOptions } from "@weft/backend";
import { noopLogger } from "@weft/backend";
import type { NetConf } from "@weft/netconf";
import { HostGwNetwork } from "./host_gw_network.ts";

/** flannel's exact refusal text for host-gw behind NAT (pkg/backend/hostgw/hostgw.go). */
export const HOST_GW_NAT_MESSAGE =
  "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend";

/** Thrown by {@linkcode createHostGwBackend} when the public IP is not the interface's own address. */
export class HostGwNatError extends Error {
  /** The public IP that differs. */
  readonly publicIp: string;
  /** The interface address. */
  readonly interfaceIp: string;
  constructor(publicIp: string, interfaceIp: string) {
    super(HOST_GW_NAT_MESSAGE);
    this.name = "HostGwNatError";
    this.publicIp = publicIp;
    this.interfaceIp = interfaceIp;
  }
}

/**
 * The host-gw backend: each peer's subnet is routed via the peer's public IP on the external
 * interface (`ip route replace 10.244.2.0/24 via 192.168.1.12 dev eth0`). Requires every peer on
 * the same L2 network; behind NAT it refuses to start with flannel's message. A
 * {@linkcode BackendFactory} for the registry.
 */
export function createHostGwBackend(deps: BackendDeps): Backend {
  const ext = deps.externalInterface;
  for (const [pub, own] of [
    [ext.publicIp, ext.address],
    [ext.publicIpv6, ext.addressV6],
  ] as const) {
    if (pub && own && pub.address !== own.address) throw new HostGwNatError(pub.address, own.address);
  }
  return new HostGwBackend(deps);
}

class HostGwBackend implements Backend {
  readonly type = "host-gw";
  readonly #deps: BackendDeps;
  readonly #log: Logger;
  constructor(deps: BackendDeps) {
    this.#deps = deps;
    this.#log = deps.logger ?? noopLogger;
  }

  async registerNetwork(config: NetConf, options: RegisterNetworkOptions): Promise<Network> {
    const ext: ExternalInterface = this.#deps.externalInterface;
    const publicIp = ext.publicIp ?? ext.address;
    const publicIpv6 = ext.publicIpv6 ?? ext.addressV6;
    if (config.enableIPv4 && !publicIp) throw new TypeError(`externalInterface: ${ext.name} has no IPv4 address`);
    if (config.enableIPv6 && !publicIpv6) throw new TypeError(`externalInterface: ${ext.name} has no IPv6 address`);
    const lease = await options.acquireLease(
      {
        ...(config.enableIPv4 && publicIp ? { publicIp } : {}),
        ...(config.enableIPv6 && publicIpv6 ? { publicIpv6 } : {}),
        backendType: this.type,
        backendData: null,
      },
      options.signal ? { signal: options.signal } : {},
    );
    this.#log.info({ iface: ext.name, mtu: ext.mtu }, "host-gw network registered");
    return new HostGwNetwork({
      config,
      lease,
      externalInterface: ext,
      iproute: this.#deps.iproute,
      ...(this.#deps.ipSession ? { ipSession: this.#deps.ipSession } : {}),
      logger: this.#log,
      ...(this.#deps.resyncMs === undefined ? {} : { resyncMs: this.#deps.resyncMs }),
    });
  }
}
