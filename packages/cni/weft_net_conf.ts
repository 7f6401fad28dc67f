import { validateIfname } from "./cni_env.ts";
import { CniError } from "./cni_error.ts";
import { CNI_ERROR } from "./constants.ts";
import type { CniDns, CniRoute } from "./types.ts";

/** Where flanneld/weftd writes the node's subnet (flannel's default). */
export const DEFAULT_SUBNET_FILE = "/run/flannel/subnet.env";
/** host-local's default state directory; a network's addresses live in `<dataDir>/<name>/`. */
export const DEFAULT_DATA_DIR = "/var/lib/cni/networks";
/** Where Weft records per-attachment facts (host veth, ipMasq) as `<stateDir>/<name>/<id>_<ifname>.json`. */
export const DEFAULT_STATE_DIR = "/var/lib/cni/weft";

/** The Weft plugin's network config (one entry of a conflist, after the runtime's insertions). */
export interface WeftNetConf {
  cniVersion: string;
  name: string;
  /** The bridge to create or reuse; @default "cni0" */
  bridge: string;
  /** Put the gateway (first address of the node subnet) on the bridge; @default true (flannel) */
  isGateway: boolean;
  /** Add a default route via the gateway (forces isGateway); @default false */
  isDefaultGateway: boolean;
  /** Hairpin mode on the host veth; @default true (kube-flannel's manifest) */
  hairpinMode: boolean;
  /** Overrides FLANNEL_MTU; @default undefined (use subnet.env) */
  mtu: number | undefined;
  /** Overrides `!FLANNEL_IPMASQ`; @default undefined (use subnet.env) */
  ipMasq: boolean | undefined;
  /** @default DEFAULT_SUBNET_FILE */
  subnetFile: string;
  /** @default DEFAULT_DATA_DIR */
  dataDir: string;
  /** @default DEFAULT_STATE_DIR */
  stateDir: string;
  /** Extra routes for the pod (besides the cluster networks); @default [] */
  routes: CniRoute[];
  /** DNS settings copied into the result; @default undefined */
  dns: CniDns | undefined;
}

function bad(field: string, problem: string): CniError {
  return new CniError(CNI_ERROR.invalidNetworkConfig, `invalid network config: "${field}" ${problem}`);
}

function bool(config: Record<string, unknown>, field: string, dflt: boolean | undefined): boolean | undefined {
  const v = config[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "boolean") throw bad(field, `must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function str(config: Record<string, unknown>, field: string, dflt: string): string {
  const v = config[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "string" || v === "") throw bad(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Reads the Weft plugin's fields from a decoded network config, applying flannel's defaults.
 * Errors are code 7 (invalid network config) and name the field.
 */
export function parseWeftNetConf(config: Record<string, unknown>): WeftNetConf {
  const ipam = (config.ipam ?? {}) as Record<string, unknown>;
  if (typeof ipam !== "object" || Array.isArray(ipam)) throw bad("ipam", "must be an object");
  const bridge = str(config, "bridge", "cni0");
  try {
    validateIfname(bridge);
  } catch (err) {
    throw bad("bridge", `is not a valid interface name: ${(err as Error).message}`);
  }
  let mtu: number | undefined;
  if (config.mtu !== undefined && config.mtu !== null) {
    if (typeof config.mtu !== "number" || !Number.isInteger(config.mtu) || config.mtu < 68 || config.mtu > 65535) {
      throw bad("mtu", `must be an integer in 68..65535, got ${JSON.stringify(config.mtu)}`);
    }
    mtu = config.mtu;
  }
  const rawRoutes = config.routes ?? ipam.routes ?? [];
  if (!Array.isArray(rawRoutes)) throw bad("routes", "must be a list of {dst, gw?}");
  const routes = rawRoutes.map((r, i) => {
    const o = r as Partial<CniRoute> | null;
    if (!o || typeof o.dst !== "string" || !o.dst.includes("/")) throw bad(`routes[${i}].dst`, "must be a CIDR string");
    if (o.gw !== undefined && typeof o.gw !== "string") throw bad(`routes[${i}].gw`, "must be an IP string");
    return o.gw === undefined ? { dst: o.dst } : { dst: o.dst, gw: o.gw };
  });
  const dns = config.dns;
  if (dns !== undefined && (dns === null || typeof dns !== "object" || Array.isArray(dns))) throw bad("dns", "must be an object");
  const isDefaultGateway = bool(config, "isDefaultGateway", false)!;
  const dataDirDefault = typeof ipam.dataDir === "string" && ipam.dataDir !== "" ? ipam.dataDir : DEFAULT_DATA_DIR;
  return {
    cniVersion: String(config.cniVersion),
    name: String(config.name),
    bridge,
    isGateway: isDefaultGateway || bool(config, "isGateway", true)!,
    isDefaultGateway,
    hairpinMode: bool(config, "hairpinMode", true)!,
    mtu,
    ipMasq: bool(config, "ipMasq", undefined),
    subnetFile: str(config, "subnetFile", DEFAULT_SUBNET_FILE),
    dataDir: str(config, "dataDir", dataDirDefault),
    stateDir: str(config, "stateDir", DEFAULT_STATE_DIR),
    routes,
    dns: dns as CniDns | undefined,
  };
}
