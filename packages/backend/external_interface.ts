import type { IpAddr } from "@weft/ipam";
import { parseIp, tryParseIp } from "@weft/ipam";
import type { IpRoute } from "@weft/iproute";
import type { ExternalInterface } from "./types.ts";

/** Thrown by {@linkcode lookupExternalInterface} when no usable interface is found. */
export class ExternalInterfaceError extends Error {
  /** The `--iface` value asked for, or undefined when the default-route interface was looked up. */
  readonly iface: string | undefined;
  constructor(message: string, iface: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ExternalInterfaceError";
    this.iface = iface;
  }
}

/** Options for {@linkcode lookupExternalInterface}. */
export interface LookupExternalInterfaceOptions {
  /** flanneld `--iface`: an interface name or one of its addresses; @default the interface of the default route */
  iface?: string;
  /** flanneld `--public-ip`; @default the interface's IPv4 address */
  publicIp?: IpAddr;
  /** flanneld `--public-ipv6`; @default the interface's IPv6 address */
  publicIpv6?: IpAddr;
  /** Require an IPv4 address (EnableIPv4); @default true */
  ipv4?: boolean;
  /** Require an IPv6 address (EnableIPv6); @default false */
  ipv6?: boolean;
}

/**
 * Finds the underlay interface the way flanneld's `LookupExtIface` does: by `--iface` (a name or
 * an address on it), else the interface of the default route; its first global IPv4 (and IPv6)
 * address is the interface address, and `--public-ip` overrides the published address.
 */
export async function lookupExternalInterface(iproute: IpRoute, options: LookupExternalInterfaceOptions = {}): Promise<ExternalInterface> {
  const wantV4 = options.ipv4 ?? true;
  const wantV6 = options.ipv6 ?? false;
  let name: string | undefined;
  if (options.iface !== undefined) {
    const asIp = tryParseIp(options.iface);
    if (asIp) {
      const hit = (await iproute.address.list({ family: asIp.family })).find((a) => a.address === asIp.address);
      if (!hit) throw new ExternalInterfaceError(`error looking up interface ${options.iface}: no interface has this address`, options.iface);
      name = hit.dev;
    } else name = options.iface;
  } else {
    const routes = await iproute.route.list({ family: wantV4 ? 4 : 6 });
    name = routes.find((r) => r.dst === "default" && r.dev)?.dev;
    if (!name) throw new ExternalInterfaceError("failed to get default interface: no default route", undefined);
  }
  const link = await iproute.link.get(name);
  if (!link) throw new ExternalInterfaceError(`error looking up interface ${name}: it does not exist`, options.iface);
  if (!link.mtu) throw new ExternalInterfaceError(`failed to determine MTU for ${name} interface`, options.iface);
  const addresses = await iproute.address.list({ dev: name });
  const first = (family: 4 | 6): IpAddr | undefined => {
    const a = addresses.find((x) => x.family === family && x.scope === "global");
    return a ? parseIp(a.address) : undefined;
  };
  const address = first(4);
  const addressV6 = first(6);
  if (wantV4 && !address) throw new ExternalInterfaceError(`failed to find IPv4 address for interface ${name}`, options.iface);
  if (wantV6 && !addressV6) throw new ExternalInterfaceError(`failed to find IPv6 address for interface ${name}`, options.iface);
  const publicIp = options.publicIp ?? address;
  const publicIpv6 = options.publicIpv6 ?? addressV6;
  return {
    name,
    index: link.index,
    mtu: link.mtu,
    ...(address ? { address } : {}),
    ...(addressV6 ? { addressV6 } : {}),
    ...(publicIp ? { publicIp } : {}),
    ...(publicIpv6 ? { publicIpv6 } : {}),
  };
}
