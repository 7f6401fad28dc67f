/** The vxlan backend's settings from net-conf.json `Backend` (flannel's keys, matched case-insensitively). */
export interface VxlanConfig {
  /** VXLAN network identifier; @default 1 */
  readonly vni: number;
  /** UDP destination port; 0 leaves the kernel default (8472, as flannel); @default 0 */
  readonly port: number;
  /** Base MTU the 50-byte overhead is taken from; @default undefined (the external interface MTU) */
  readonly mtu?: number;
  /** VXLAN Group Based Policy extension; @default false */
  readonly gbp: boolean;
  /** Let the kernel learn remote MACs (flannel programs the FDB itself); @default false */
  readonly learning: boolean;
  /** Route to peers on the same L2 directly, without encapsulation; @default false */
  readonly directRouting: boolean;
}

/** The VNI flannel uses when `Backend.VNI` is absent. */
export const DEFAULT_VNI = 1;
/** The port the Linux kernel uses when no `dstport` is given, and flannel's effective default. */
export const KERNEL_VXLAN_PORT = 8472;
/** Bytes VXLAN over IPv4 adds to an inner IP packet: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;
/** The same over an IPv6 underlay (outer IPv6 header 40 bytes). flannel uses 50 for IPv6 too. */
export const VXLAN_OVERHEAD_V6 = 70;

const KEYS = ["type", "vni", "port", "mtu", "gbp", "learning", "directrouting"] as const;

/**
 * Reads the vxlan settings from the `Backend` object of net-conf.json. Keys are matched
 * case-insensitively like Go's encoding/json does for flannel (`VNI`, `vni`, `Vni` all work);
 * unknown keys are ignored as flannel ignores them. Wrong types or out-of-range values throw
 * TypeError / RangeError naming the key.
 */
export function parseVxlanConfig(backend: unknown): VxlanConfig {
  const obj = backend ?? {};
  if (typeof obj !== "object" || Array.isArray(obj)) throw new TypeError("Backend: must be a JSON object");
  const lower = new Map<string, unknown>();
  for (const [key, value] of Object.entries(obj)) {
    const k = key.toLowerCase();
    if ((KEYS as readonly string[]).includes(k)) lower.set(k, value);
  }
  const vni = integer(lower.get("vni"), "VNI", DEFAULT_VNI, 1, 0xffffff);
  const port = integer(lower.get("port"), "Port", 0, 0, 65535);
  const mtuRaw = lower.get("mtu");
  const mtu = mtuRaw === undefined || mtuRaw === 0 ? undefined : integer(mtuRaw, "MTU", 0, VXLAN_OVERHEAD + 68, 65535);
  return {
    vni,
    port,
    ...(mtu === undefined ? {} : { mtu }),
    gbp: bool(lower.get("gbp"), "GBP"),
    learning: bool(lower.get("learning"), "Learning"),
    directRouting: bool(lower.get("directrouting"), "DirectRouting"),
  };
}

/** Options for {@linkcode vxlanDeviceName}. */
export interface VxlanDeviceNameOptions {
  /** The address family of the device; @default 4 */
  family?: 4 | 6;
}

/** The device name flannel uses: `flannel.<VNI>` (IPv4) or `flannel-v6.<VNI>` (IPv6). */
export function vxlanDeviceName(vni: number, options: VxlanDeviceNameOptions = {}): string {
  return (options.family ?? 4) === 4 ? `flannel.${vni}` : `flannel-v6.${vni}`;
}

/** Options for {@linkcode vxlanMtu}. */
export interface VxlanMtuOptions {
  /** The underlay family of the device; @default 4 */
  family?: 4 | 6;
}

/**
 * flannel's MTU rule: (config `MTU` or the external interface MTU) - 50. Over an IPv6 underlay
 * Weft subtracts 70, the real overhead; flannel's 50 there makes full-size packets exceed the
 * underlay MTU by 20 bytes.
 */
export function vxlanMtu(config: Pick<VxlanConfig, "mtu">, externalMtu: number, options: VxlanMtuOptions = {}): number {
  return (config.mtu ?? externalMtu) - ((options.family ?? 4) === 6 ? VXLAN_OVERHEAD_V6 : VXLAN_OVERHEAD);
}

function integer(value: unknown, key: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) throw new TypeError(`Backend.${key}: must be an integer, got ${JSON.stringify(value)}`);
  if (value < min || value > max) throw new RangeError(`Backend.${key}: ${value} is out of range ${min}..${max}`);
  return value;
}

function bool(value: unknown, key: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") throw new TypeError(`Backend.${key}: must be true or false, got ${JSON.stringify(value)}`);
  return value;
}
