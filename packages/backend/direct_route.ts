import type { IpAddr } from "@weft/ipam";
import type { IpRoute } from "@weft/iproute";

/** How a directly reachable address is reached. */
export interface DirectRoute {
  /** The interface the kernel would send on, e.g. `eth0`. */
  readonly dev: string;
}

/**
 * flannel's `ip.DirectRouting` test: `ip route get <ip>` gives a unicast route without a
 * gateway, i.e. `ip` is on a network attached to this node (same L2). Resolves to the interface,
 * or undefined when the address is only reachable through a gateway, is local, or unreachable.
 */
export async function lookupDirectRoute(iproute: IpRoute, ip: IpAddr): Promise<DirectRoute | undefined> {
  const route = await iproute.route.get(ip.address);
  if (!route || route.via || !route.dev) return undefined;
  if (route.type !== "unicast") return undefined;
  return { dev: route.dev };
}
