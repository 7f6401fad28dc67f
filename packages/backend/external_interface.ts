import { parseIp, tryParseIp, type IpAddr } from "@weft/ipam";
import type { Address, IpRoute, Link } from "@weft/iproute";
import type { ExternalInterface } from "./types.ts";

/** Thrown by {@linkcode lookupExternalInterface} when no usable interface is found. */
export class ExternalInterfaceError extends Error {
  /** The `--iface` values asked for (empty when the default-route interface was looked up). */
  readonly iface: readonly string[];
  constructor(message: string, iface: readonly string[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ExternalInterfaceError";
    this.iface = iface;
  }
}

/** Options for {@linkcode lookupExternalInterface}. */
export interface LookupExternalInterfaceOptions {
  /** flanneld `--iface`: interface names or addresses, first match wins; @default the interface of the default route */
  iface?: string | readonly string[];
  /** flanneld `--iface-regex`: matched against interface addresses first, then names, after `iface`; @default [] */
  ifaceRegex?: readonly string[];
  /** flanneld `--public-ip`; @default the interface's IPv4 address */
  publicIp?: IpAddr;
  /** flanneld `--public-ipv6`; @default the interface's IPv6 address */
  publicIpv6?: IpAddr;
  /** Require an IPv4 address (EnableIPv4); @default true */
  ipv4?: boolean;
  /** Require an IPv6 address (EnableIPv6); @default false */
  ipv6?: boolean;
  /** Told how the interface was chosen, for the caller's log (e.g. `--iface-regex ^10\. (address)`); @default none */
  onChosen?: (reason: string) => void;
}

interface Choice {
  link: Link;
  /** The address an --iface / --iface-regex entry matched, which then is the interface address. */
  address?: IpAddr;
  reason: string;
}

function chooseByOptions(links: readonly Link[], addresses: readonly Address[], ifaces: readonly string[], regexes: readonly string[]): Choice | undefined {
  const byName = new Map(links.map((l) => [l.name, l] as const));
  for (const entry of ifaces) {
    const asIp = tryParseIp(entry);
    const link = asIp ? byName.get(addresses.find((a) => a.address === asIp.address)?.dev ?? "") : byName.get(entry);
    if (link) return { link, ...(asIp ? { address: asIp } : {}), reason: `--iface ${entry} (${asIp ? "address" : "name"})` };
  }
  for (const pattern of regexes) {
    const re = new RegExp(pattern);
    const hit = addresses.find((a) => a.scope === "global" && re.test(a.address));
    const byAddress = hit && byName.get(hit.dev);
    if (hit && byAddress) return { link: byAddress, address: parseIp(hit.address), reason: `--iface-regex ${pattern} (address)` };
    const link = links.find((l) => re.test(l.name));
    if (link) return { link, reason: `--iface-regex ${pattern} (name)` };
  }
  return undefined;
}

/**
 * Finds the underlay interface the way flanneld's `LookupExtIface` does: the `--iface` entries (a name or an
 * address on it) in order, then the `--iface-regex` entries (addresses first, then names), else the interface of
 * the default route. Its first global IPv4 (and IPv6) address is the interface address unless an entry matched an
 * address, and `--public-ip` overrides the published address.
 */
export async function lookupExternalInterface(iproute: IpRoute, options: LookupExternalInterfaceOptions = {}): Promise<ExternalInterface> {
  const wantV4 = options.ipv4 ?? true;
  const wantV6 = options.ipv6 ?? false;
  const ifaces = typeof options.iface === "string" ? [options.iface] : [...(options.iface ?? [])];
  const regexes = options.ifaceRegex ?? [];
  const [links, addresses] = await Promise.all([iproute.link.list(), iproute.address.list()]);

  let choice: Choice | undefined;
  if (ifaces.length + regexes.length > 0) {
    choice = chooseByOptions(links, addresses, ifaces, regexes);
    if (!choice) {
      const what = ifaces.length === 1 && regexes.length === 0 ? `error looking up interface ${ifaces[0]}: no interface has this name or address` : "";
      throw new ExternalInterfaceError(
        what || `Failed to find interface to use that matches the interfaces and/or regexes provided (--iface ${JSON.stringify(ifaces)}, --iface-regex ${JSON.stringify(regexes)})`,
        ifaces,
      );
    }
  } else {
    const routes = await iproute.route.list({ family: wantV4 ? 4 : 6 });
    const name = routes.find((r) => r.dst === "default" && r.dev)?.dev;
    const link = links.find((l) => l.name === name);
    if (!link) throw new ExternalInterfaceError("failed to get default interface: no default route; use --iface or --iface-regex", ifaces);
    choice = { link, reason: "default route interface" };
  }
  const { link } = choice;
  if (!link.mtu) throw new ExternalInterfaceError(`failed to determine MTU for ${link.name} interface`, ifaces);
  const first = (family: 4 | 6): IpAddr | undefined => {
    if (choice.address?.family === family) return choice.address;
    const a = addresses.find((x) => x.dev === link.name && x.family === family && x.scope === "global");
    return a ? parseIp(a.address) : undefined;
  };
  const address = first(4);
  const addressV6 = first(6);
  if (wantV4 && !address) throw new ExternalInterfaceError(`failed to find IPv4 address for interface ${link.name}`, ifaces);
  if (wantV6 && !addressV6) throw new ExternalInterfaceError(`failed to find IPv6 address for interface ${link.name}`, ifaces);
  options.onChosen?.(choice.reason);
  const publicIp = options.publicIp ?? address;
  const publicIpv6 = options.publicIpv6 ?? addressV6;
  return {
    name: link.name,
    index: link.index,
    mtu: link.mtu,
    ...(address ? { address } : {}),
    ...(addressV6 ? { addressV6 } : {}),
    ...(publicIp ? { publicIp } : {}),
    ...(publicIpv6 ? { publicIpv6 } : {}),
  };
}
