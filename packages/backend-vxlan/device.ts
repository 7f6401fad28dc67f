import type { Logger } from "@weft/backend";
import { noopLogger } from "@weft/backend";
import type { Cidr, IpAddr } from "@weft/ipam";
import { cidrContains, formatCidr, parseIp } from "@weft/ipam";
import type { IpRoute, Link } from "@weft/iproute";
import { isExists } from "@weft/iproute";
import { normalizeMac, randomVtepMac } from "./vxlan_backend_data.ts";

/** What the vxlan device must look like. */
export interface VxlanDeviceSpec {
  /** `flannel.<VNI>`. */
  readonly name: string;
  readonly vni: number;
  /** UDP port; 0 = kernel default (8472). */
  readonly port: number;
  readonly gbp: boolean;
  readonly learning: boolean;
  /** Device MTU (already minus the 50-byte overhead). */
  readonly mtu: number;
  /** `local`: the external interface's own address (flannel's IfaceAddr). */
  readonly local: IpAddr;
  /** `dev`: the external interface. */
  readonly externalName: string;
  /** The MAC to use (the previous lease's VtepMAC); @default random locally administered, or the existing device's */
  readonly mac?: string;
}

/** The device as it is in the kernel. */
export interface VxlanDeviceInfo {
  readonly name: string;
  readonly index: number;
  readonly mac: string;
  readonly mtu: number;
  /** Whether this call created it. */
  readonly created: boolean;
}

/** Options for {@linkcode ensureVxlanDevice}. */
export interface EnsureVxlanDeviceOptions {
  /** @default noopLogger */
  logger?: Logger;
  /** MAC generator for new devices without a given MAC; @default randomVtepMac */
  randomMac?: () => string;
}

/**
 * Why an existing link cannot serve as the device (flannel's `vxlanLinksIncompat`), or undefined
 * when it can. Like flannel: type, VNI, underlay device (when both set), local IP (when both
 * set), group, port (when both set), GBP. Also learning (flannel ignores it, so switching
 * `Learning` off never took effect on an existing device). MTU and MAC are fixed in place instead.
 */
export function vxlanIncompatibility(spec: VxlanDeviceSpec, link: Link): string | undefined {
  if (link.kind !== "vxlan" || !link.vxlan) return `link type: vxlan vs ${link.kind ?? "none"}`;
  const v = link.vxlan;
  if (v.id !== spec.vni) return `vni: ${spec.vni} vs ${v.id}`;
  if (v.dev && v.dev !== spec.externalName) return `vtep (external) interface: ${spec.externalName} vs ${v.dev}`;
  if (v.local && v.local !== spec.local.address) return `vtep (external) IP: ${spec.local.address} vs ${v.local}`;
  if (v.group) return `group address: none vs ${v.group}`;
  if (spec.port > 0 && v.dstport > 0 && v.dstport !== spec.port) return `port: ${spec.port} vs ${v.dstport}`;
  if (v.gbp !== spec.gbp) return `gbp: ${spec.gbp} vs ${v.gbp}`;
  if (v.learning !== spec.learning) return `learning: ${spec.learning} vs ${v.learning}`;
  return undefined;
}

/** Whether a link of that name exists. */
export async function linkExists(iproute: IpRoute, name: string): Promise<boolean> {
  return (await iproute.link.get(name)) !== undefined;
}

/**
 * Makes sure the vxlan device exists as `spec` says: reuses a compatible device (correcting its
 * MTU, and its MAC when `spec.mac` is given), replaces an incompatible one, or creates it with the
 * MAC set at creation (flannel PR #1485). Sets `accept_ra=0` on it as flannel does (best effort).
 */
export async function ensureVxlanDevice(iproute: IpRoute, spec: VxlanDeviceSpec, options: EnsureVxlanDeviceOptions = {}): Promise<VxlanDeviceInfo> {
  const log = options.logger ?? noopLogger;
  let link = await iproute.link.get(spec.name);
  let created = false;
  if (link) {
    const why = vxlanIncompatibility(spec, link);
    if (why) {
      log.warn({ device: spec.name, incompatible: why }, `"${spec.name}" already exists with incompatible configuration: ${why}; recreating device`);
      await iproute.link.delete(spec.name);
      link = undefined;
    }
  }
  if (!link) {
    const mac = spec.mac ? normalizeMac(spec.mac) : (options.randomMac ?? (() => randomVtepMac()))();
    try {
      await iproute.link.add({
        type: "vxlan",
        name: spec.name,
        id: spec.vni,
        local: spec.local.address,
        dev: spec.externalName,
        ...(spec.port > 0 ? { dstport: spec.port } : {}),
        learning: spec.learning,
        gbp: spec.gbp,
        mac,
        mtu: spec.mtu,
      });
      created = true;
    } catch (err) {
      if (!isExists(err)) throw err; // created concurrently: check it below
    }
    link = await iproute.link.get(spec.name);
    if (!link) throw new Error(`Cannot create vxlan device ${spec.name}: it is gone right after creation`);
    if (!created) {
      const why = vxlanIncompatibility(spec, link);
      if (why) throw new Error(`Cannot create vxlan device ${spec.name}: another process created an incompatible one (${why})`);
    }
  }
  const changes: { mtu?: number; mac?: string } = {};
  if (link.mtu !== spec.mtu) changes.mtu = spec.mtu;
  if (spec.mac && link.mac?.toLowerCase() !== normalizeMac(spec.mac)) changes.mac = normalizeMac(spec.mac);
  if (changes.mtu !== undefined || changes.mac !== undefined) {
    log.info({ device: spec.name, ...changes }, "correcting vxlan device attributes");
    await iproute.link.set(spec.name, changes);
    link = (await iproute.link.get(spec.name)) ?? link;
  }
  try {
    await iproute.sysctl.set(`net/ipv6/conf/${spec.name}/accept_ra`, 0);
  } catch (err) {
    log.debug({ err, device: spec.name }, "cannot set accept_ra=0 (IPv6 disabled?)");
  }
  if (!link.mac) throw new Error(`Cannot use vxlan device ${spec.name}: it has no MAC address`);
  return { name: link.name, index: link.index, mac: link.mac.toLowerCase(), mtu: link.mtu, created };
}

/** Options for {@linkcode configureVxlanDevice}. */
export interface ConfigureVxlanDeviceOptions {
  /** The device address, `<lease subnet>.0/32`. */
  address: Cidr;
  /** The cluster Network: other addresses of the device inside it are removed (flannel's EnsureV4AddressOnLink). */
  network: Cidr;
  /** Verify the device has this MAC (flannel's "mac address wanted" check); @default no check */
  mac?: string;
}

/** Gives the device its single address inside the Network and brings it up. */
export async function configureVxlanDevice(iproute: IpRoute, name: string, options: ConfigureVxlanDeviceOptions): Promise<void> {
  const want = formatCidr(options.address);
  const have = await iproute.address.list({ dev: name, family: options.address.family });
  for (const a of have) {
    if (a.cidr === want) continue;
    if (cidrContains(options.network, parseIp(a.address))) await iproute.address.delete({ dev: name, address: a.cidr });
  }
  if (!have.some((a) => a.cidr === want)) await iproute.address.replace({ dev: name, address: want });
  await iproute.link.set(name, { up: true });
  if (options.mac) {
    const got = (await iproute.link.get(name))?.mac?.toLowerCase();
    const wanted = normalizeMac(options.mac);
    if (got !== wanted) throw new Error(`Cannot configure ${name}: mac address wanted: ${wanted}, but got: ${got ?? "none"}`);
  }
}

/** Options for {@linkcode watchLinkDeletion}. */
export interface WatchLinkDeletionOptions {
  /** Stops watching; the promise resolves. */
  signal: AbortSignal;
  /** Called for every deletion of the link. */
  onDeleted: () => void;
  /** First delay before restarting a failed monitor, doubled up to 30 s; @default 1000 */
  retryMs?: number;
  /** @default noopLogger */
  logger?: Logger;
}

/**
 * Calls `onDeleted` whenever the link `name` is deleted (`ip monitor link`), restarting the
 * monitor with backoff (1 s to 30 s, as flannel) when it ends or fails, until `signal` aborts.
 */
export async function watchLinkDeletion(iproute: IpRoute, name: string, options: WatchLinkDeletionOptions): Promise<void> {
  const { signal, onDeleted } = options;
  const log = options.logger ?? noopLogger;
  let delay = options.retryMs ?? 1000;
  while (!signal.aborted) {
    try {
      for await (const ev of iproute.monitor({ objects: ["link"], signal })) {
        delay = options.retryMs ?? 1000;
        if (ev.type === "link" && ev.action === "deleted" && ev.name === name) onDeleted();
      }
    } catch (err) {
      if (signal.aborted) break;
      log.warn({ err, device: name }, "link monitor failed; restarting");
    }
    if (signal.aborted) break;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, delay);
      function done(): void {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
    delay = Math.min(delay * 2, 30_000);
  }
}
