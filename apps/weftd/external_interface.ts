import type { ExternalInterface } from "@weft/backend";
import { parseIp, tryParseIp, type IpAddr } from "@weft/ipam";
import type { Address, IpRoute, Link } from "@weft/iproute";

/** Options for {@linkcode findExternalInterface}. */
export interface FindExternalInterfaceOptions {
  /** Interface names or IP addresses, first match wins (flannel's --iface); @default [] */
  iface?: readonly string[];
  /** Regexes matched against interface addresses first, then names (flannel's --iface-regex); @default [] */
  ifaceRegex?: readonly string[];
  /** Address peers use when it differs from the interface address (--public-ip); @default the interface address */
  publicIp?: string;
  /** IPv6 counterpart of publicIp; @default the interface's IPv6 address */
  publicIpv6?: string;
}

/** Thrown when no interface matches; the message says what was tried, as flannel's log line does. */
export class InterfaceNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InterfaceNotFoundError";
  }
}

/** How the interface was chosen, for the agent's log line. */
export interface ChosenInterface {
  externalInterface: ExternalInterface;
  reason: string;
}

function usable(a: Address): boolean {
  return a.scope === "global";
}

function firstAddress(addresses: readonly Address[], dev: string, family: 4 | 6): IpAddr | undefined {
  const a = addresses.find((x) => x.dev === dev && x.family === family && usable(x));
  return a ? parseIp(a.address) : undefined;
}

/**
 * Chooses the interface that carries inter-node traffic, with flannel's rules: `--iface` entries (name or
 * address) in order, then `--iface-regex` entries (addresses first, then names), else the interface of the
 * IPv4 default route. The interface address is the first global address on it, unless an `--iface` or regex
 * matched an address, which is then used.
 */
export async function findExternalInterface(ip: IpRoute, options: FindExternalInterfaceOptions = {}): Promise<ChosenInterface> {
  const [links, addresses] = await Promise.all([ip.link.list(), ip.address.list()]);
  const byName = new Map(links.map((l) => [l.name, l] as const));
  let chosen: { link: Link; address?: IpAddr; reason: string } | undefined;

  for (const entry of options.iface ?? []) {
    const asIp = tryParseIp(entry);
    if (asIp) {
      const a = addresses.find((x) => x.address === asIp.address);
      const link = a && byName.get(a.dev);
      if (link) chosen = { link, address: asIp, reason: `--iface ${entry} (address)` };
    } else {
      const link = byName.get(entry);
      if (link) chosen = { link, reason: `--iface ${entry} (name)` };
    }
    if (chosen) break;
  }
  if (!chosen) {
    for (const pattern of options.ifaceRegex ?? []) {
      const re = new RegExp(pattern);
      const a = addresses.find((x) => usable(x) && re.test(x.address));
      const byAddr = a && byName.get(a.dev);
      if (a && byAddr) chosen = { link: byAddr, address: parseIp(a.address), reason: `--iface-regex ${pattern} (address)` };
      else {
        const link = links.find((l) => re.test(l.name));
        if (link) chosen = { link, reason: `--iface-regex ${pattern} (name)` };
      }
      if (chosen) break;
    }
  }
  const asked = (options.iface?.length ?? 0) + (options.ifaceRegex?.length ?? 0) > 0;
  if (!chosen && asked) {
    throw new InterfaceNotFoundError(
      `Failed to find interface to use that matches the interfaces and/or regexes provided (--iface ${JSON.stringify(options.iface ?? [])}, --iface-regex ${JSON.stringify(options.ifaceRegex ?? [])})`,
    );
  }
  if (!chosen) {
    const routes = await ip.route.list({ family: 4 });
    const def = routes.find((r) => r.dst === "default" && r.dev);
    const link = def?.dev ? byName.get(def.dev) : undefined;
    if (!link) throw new InterfaceNotFoundError("Failed to find the default route interface: there is no IPv4 default route; use --iface or --iface-regex");
    chosen = { link, reason: `default route interface` };
  }

  const address = chosen.address?.family === 4 ? chosen.address : firstAddress(addresses, chosen.link.name, 4);
  const addressV6 = chosen.address?.family === 6 ? chosen.address : firstAddress(addresses, chosen.link.name, 6);
  if (!address && !addressV6) throw new InterfaceNotFoundError(`Interface ${chosen.link.name} has no global IPv4 or IPv6 address`);
  const parsePublic = (text: string | undefined, flag: string, family: 4 | 6): IpAddr | undefined => {
    if (text === undefined) return undefined;
    const parsed = tryParseIp(text);
    if (!parsed || parsed.family !== family) throw new TypeError(`${flag}: "${text}" is not an IPv${family} address`);
    return parsed;
  };
  const publicIp = parsePublic(options.publicIp, "--public-ip", 4) ?? address;
  const publicIpv6 = parsePublic(options.publicIpv6, "--public-ipv6", 6) ?? addressV6;
  return {
    externalInterface: {
      name: chosen.link.name,
      index: chosen.link.index,
      mtu: chosen.link.mtu,
      ...(address ? { address } : {}),
      ...(addressV6 ? { addressV6 } : {}),
      ...(publicIp ? { publicIp } : {}),
      ...(publicIpv6 ? { publicIpv6 } : {}),
    },
    reason: chosen.reason,
  };
}
