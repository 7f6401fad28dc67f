// What a runtime may ask for besides an automatic pod address:
//
//  - requested IPs, with host-local's sources: `CNI_ARGS` `IP=` (a comma-separated list), then
//    `args.cni.ips`, then `runtimeConfig.ips` (capability `ips`). host-local concatenates the three
//    lists, so none overrides another; we do the same. Entries are `a.b.c.d` / `x::y`, or with the
//    node subnet's prefix (`a.b.c.d/24`); which range set an entry belongs to is decided later
//    (`PodIpam.plan`), where two different addresses for one range set are an error.
//  - a MAC for the pod interface, with the bridge plugin's sources: `CNI_ARGS` `MAC=`, then
//    `args.cni.mac`, then `runtimeConfig.mac` (capability `mac`); the last one set wins.
//
// Input problems are CNI errors naming the field and the value: code 4 (invalid environment
// variables) for `CNI_ARGS`, code 7 (invalid network config) for the config's fields.
import { parseIp, type IpAddr } from "@weft/ipam";
import { cniArg } from "./cni_args.ts";
import { CniError } from "./cni_error.ts";
import { CNI_ERROR } from "./constants.ts";
import type { CniRequestEnv } from "./types.ts";

/** One requested pod address and where it came from. */
export interface IpRequest {
  /** The canonical address. */
  readonly ip: IpAddr;
  /** The prefix length when the entry had one (`10.244.0.5/24`). */
  readonly prefixLength: number | undefined;
  /** The field, as errors name it: `CNI_ARGS IP`, `args.cni.ips[0]`, `runtimeConfig.ips[1]`. */
  readonly field: string;
  /** The entry as given. */
  readonly value: string;
  /** The CNI error code for an entry that cannot be honoured: 4 from CNI_ARGS, 7 from the config. */
  readonly code: number;
}

/** A CNI error naming the field and its value. */
export function requestError(code: number, field: string, value: string, problem: string): CniError {
  return new CniError(code, `${field}=${value}: ${problem}`);
}

function record(x: unknown): Record<string, unknown> | undefined {
  return x !== null && typeof x === "object" && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}

function parseEntry(field: string, value: string, code: number): IpRequest {
  const slash = value.indexOf("/");
  const addr = slash < 0 ? value : value.slice(0, slash);
  let ip: IpAddr;
  try {
    ip = parseIp(addr);
  } catch (err) {
    throw requestError(code, field, value, `not an IP address (${(err as Error).message})`);
  }
  let prefixLength: number | undefined;
  if (slash >= 0) {
    const p = value.slice(slash + 1);
    prefixLength = Number(p);
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || prefixLength > (ip.family === 4 ? 32 : 128)) {
      throw requestError(code, field, value, `prefix length ${JSON.stringify(p)} is not a number in 0..${ip.family === 4 ? 32 : 128}`);
    }
  }
  return { ip, prefixLength, field, value, code };
}

function configList(path: string, value: unknown): IpRequest[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new CniError(CNI_ERROR.invalidNetworkConfig, `invalid network config: "${path}" must be a list of IP strings, got ${JSON.stringify(value)}`);
  return value.map((v, i) => {
    if (typeof v !== "string") throw new CniError(CNI_ERROR.invalidNetworkConfig, `invalid network config: "${path}[${i}]" must be an IP string, got ${JSON.stringify(v)}`);
    return parseEntry(`${path}[${i}]`, v.trim(), CNI_ERROR.invalidNetworkConfig);
  });
}

/**
 * The requested pod addresses, in host-local's order: `CNI_ARGS` `IP=` (comma-separated), then
 * `args.cni.ips`, then `runtimeConfig.ips`. Empty when nothing was requested.
 */
export function requestedIps(env: Pick<CniRequestEnv, "args">, config: Record<string, unknown>): IpRequest[] {
  const out: IpRequest[] = [];
  const fromEnv = cniArg(env.args, "IP");
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    for (const item of fromEnv.split(",")) out.push(parseEntry("CNI_ARGS IP", item.trim(), CNI_ERROR.invalidEnvironment));
  }
  const cni = record(record(config.args)?.cni);
  if (cni) out.push(...configList("args.cni.ips", cni.ips));
  const rc = record(config.runtimeConfig);
  if (rc) out.push(...configList("runtimeConfig.ips", rc.ips));
  return out;
}

const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/**
 * Checks a requested MAC: six octets separated by `:` or `-` (Go's `net.ParseMAC` forms for 48-bit
 * addresses), unicast (the group bit of the first octet clear) and not all zero.
 * @returns the MAC in `ip`'s form (lowercase, colons)
 */
export function checkRequestedMac(field: string, value: string, code: number): string {
  if (!MAC.test(value)) throw requestError(code, field, value, "not a MAC address like 0a:58:0a:f4:00:02");
  const mac = value.toLowerCase().replaceAll("-", ":");
  const first = parseInt(mac.slice(0, 2), 16);
  if (first & 1) throw requestError(code, field, value, "a multicast MAC address; the pod interface needs a unicast one");
  if (mac === "00:00:00:00:00:00") throw requestError(code, field, value, "the all-zero MAC address; the pod interface needs a unicast one");
  return mac;
}

/**
 * The requested MAC of the pod interface: `CNI_ARGS` `MAC=`, `args.cni.mac`, `runtimeConfig.mac`,
 * the last one set (non-empty) wins, as in the bridge plugin. Every value given is checked, so a
 * malformed one is reported even when a later source overrides it.
 * @returns the MAC (lowercase, colons), or undefined when none was requested
 */
export function requestedMac(env: Pick<CniRequestEnv, "args">, config: Record<string, unknown>): string | undefined {
  let mac: string | undefined;
  const fromEnv = cniArg(env.args, "MAC");
  if (fromEnv !== undefined && fromEnv !== "") mac = checkRequestedMac("CNI_ARGS MAC", fromEnv, CNI_ERROR.invalidEnvironment);
  const fromConfig = (path: string, v: unknown) => {
    if (v === undefined || v === null || v === "") return;
    if (typeof v !== "string") throw new CniError(CNI_ERROR.invalidNetworkConfig, `invalid network config: "${path}" must be a MAC string, got ${JSON.stringify(v)}`);
    mac = checkRequestedMac(path, v, CNI_ERROR.invalidNetworkConfig);
  };
  fromConfig("args.cni.mac", record(record(config.args)?.cni)?.mac);
  fromConfig("runtimeConfig.mac", record(config.runtimeConfig)?.mac);
  return mac;
}
