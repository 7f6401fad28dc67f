/**
 * net-conf.json parsing with flannel's semantics (flannel-io/flannel pkg/subnet/config.go `ParseConfig`,
 * then `CheckNetworkConfig` unless `check: false`).
 *
 * Go's encoding/json decides what flannel accepts, so this module mirrors it:
 * - object keys match the struct fields case-insensitively (with Go's folding, so `ſubnetLen` is SubnetLen);
 *   when several keys match one field, the last one wins; unknown keys (and `BackendType`, tagged `json:"-"`) are ignored;
 * - a value of the wrong JSON type (`"SubnetLen": "24"`, `-1`, `1.5`, `"EnableIPv6": "true"`) is an
 *   `UnmarshalTypeError`: Go keeps decoding and reports the first one at the end, while an error from an
 *   address field's own parser (`invalid CIDR address: x`) stops decoding at once;
 * - `null` leaves a bool or number field at its default, but is handed to the address parsers of
 *   Network/IPv6Network/SubnetMin/SubnetMax, which reject it (IPv6SubnetMin/Max are pointers: `null` unsets them);
 * - address fields strip quotes from the raw JSON text, so `"Network": 5` reads as `invalid CIDR address: 5`.
 *
 * @module
 */
import { cidrOf, parseIp, tryParseIp } from "@weft/ipam";
import type { Cidr, IpAddr } from "@weft/ipam";
import { checkNetConf } from "./check_net_conf.ts";
import { GoJsonSyntaxError, goJsonToPlain, parseGoJson } from "./_go_json.ts";
import type { GoJsonValue } from "./_go_json.ts";
import { NetConfError } from "./net_conf_error.ts";
import type { NetConf } from "./types.ts";

/** Options of {@linkcode parseNetConf}. */
export interface ParseNetConfOptions {
  /**
   * Apply flannel's `CheckNetworkConfig` (defaults and validation of SubnetLen/SubnetMin/SubnetMax and
   * their IPv6 equivalents, see {@linkcode checkNetConf}). `false` gives flannel's `ParseConfig` only, as
   * flannel's kube subnet manager uses it.
   * @default true
   */
  check?: boolean;
  /**
   * Called with each warning, e.g. that an absent `Backend` selects flannel's debug-only `udp` backend.
   * @default undefined (warnings are dropped)
   */
  onWarning?: (message: string) => void;
}

/** The message for an absent Backend (flannel's code picks udp; its documentation claims vxlan). */
export const UDP_DEFAULT_WARNING =
  'net-conf.json has no "Backend": using the "udp" backend as flannel does; udp is for debugging only, set "Backend": {"Type": "vxlan"}';

type FieldKind = "bool" | "uint" | "ip4net" | "ip6net" | "ip4" | "ip6ptr" | "raw";

interface FieldSpec {
  readonly goName: string;
  readonly field: keyof NetConf;
  readonly kind: FieldKind;
}

// The exported fields of flannel's subnet.Config, in declaration order. BackendType is `json:"-"`.
const FIELDS: readonly FieldSpec[] = [
  { goName: "EnableIPv4", field: "enableIPv4", kind: "bool" },
  { goName: "EnableIPv6", field: "enableIPv6", kind: "bool" },
  { goName: "EnableNFTables", field: "enableNFTables", kind: "bool" },
  { goName: "Network", field: "network", kind: "ip4net" },
  { goName: "IPv6Network", field: "ipv6Network", kind: "ip6net" },
  { goName: "SubnetMin", field: "subnetMin", kind: "ip4" },
  { goName: "SubnetMax", field: "subnetMax", kind: "ip4" },
  { goName: "IPv6SubnetMin", field: "ipv6SubnetMin", kind: "ip6ptr" },
  { goName: "IPv6SubnetMax", field: "ipv6SubnetMax", kind: "ip6ptr" },
  { goName: "SubnetLen", field: "subnetLen", kind: "uint" },
  { goName: "IPv6SubnetLen", field: "ipv6SubnetLen", kind: "uint" },
  { goName: "Backend", field: "backend", kind: "raw" },
];

/** Go's case folding for field names: ASCII case plus the two non-ASCII runes that fold to ASCII letters. */
function foldName(name: string): string {
  return name.replace(/\u017f/g, "s").replace(/\u212a/g, "k").toLowerCase();
}

const BY_FOLDED = new Map(FIELDS.map((f) => [foldName(f.goName), f]));

const GO_TYPES: Record<FieldKind, string> = {
  bool: "bool",
  uint: "uint",
  ip4net: "ip.IP4Net",
  ip6net: "ip.IP6Net",
  ip4: "ip.IP4",
  ip6ptr: "*ip.IP6",
  raw: "json.RawMessage",
};

function jsonKindName(v: GoJsonValue): string {
  return v.kind;
}

/** `bytes.Trim(j, "\"")` on the raw JSON text, as flannel's UnmarshalJSON methods do. */
function trimQuotes(raw: string): string {
  return raw.replace(/^"+/, "").replace(/"+$/, "");
}

/**
 * The text flannel's address parsers see: the string's content for JSON strings (escapes decoded,
 * a small deviation from Go, which trims the raw bytes), the raw text otherwise.
 */
function addressText(v: GoJsonValue): string {
  return v.kind === "string" ? trimQuotes(`"${v.value}"`) : trimQuotes(v.raw);
}

/** Go's net.ParseCIDR: an address (no zone), "/", a decimal prefix length (leading zeros allowed). */
function goParseCidr(text: string): { ip: IpAddr; prefixLength: number } | undefined {
  const slash = text.indexOf("/");
  if (slash < 0) return undefined;
  const ip = tryParseIp(text.slice(0, slash));
  const digits = text.slice(slash + 1);
  if (!ip || !/^[0-9]{1,8}$/.test(digits)) return undefined;
  const prefixLength = Number(digits);
  if (prefixLength > (ip.family === 4 ? 32 : 128)) return undefined;
  return { ip, prefixLength };
}

/** IPv4-mapped form of an IPv4 address, as Go's `To16()` gives it. */
function mapped(ip: IpAddr): IpAddr {
  return ip.family === 6 ? ip : parseIp(`::ffff:${ip.address}`);
}

interface Draft {
  network: Cidr | undefined;
  subnetLen: number;
  subnetMin: IpAddr | undefined;
  subnetMax: IpAddr | undefined;
  enableIPv4: boolean;
  enableIPv6: boolean;
  ipv6Network: Cidr | undefined;
  ipv6SubnetLen: number;
  ipv6SubnetMin: IpAddr | undefined;
  ipv6SubnetMax: IpAddr | undefined;
  enableNFTables: boolean;
  backend: GoJsonValue | undefined;
}

/** Decodes one field; returns a type error message to save, or throws an unmarshaler error. */
function decodeField(draft: Draft, spec: FieldSpec, v: GoJsonValue): string | undefined {
  const typeError = (value: string): string =>
    `json: cannot unmarshal ${value} into Go struct field Config.${spec.goName} of type ${GO_TYPES[spec.kind]}`;
  switch (spec.kind) {
    case "bool": {
      if (v.kind === "null") return undefined;
      if (v.kind !== "bool") return typeError(jsonKindName(v));
      (draft[spec.field as "enableIPv4"] as boolean) = v.value;
      return undefined;
    }
    case "uint": {
      if (v.kind === "null") return undefined;
      if (v.kind !== "number") return typeError(jsonKindName(v));
      if (!/^[0-9]+$/.test(v.raw) || BigInt(v.raw) > 0xffff_ffff_ffff_ffffn) return typeError(`number ${v.raw}`);
      // Values beyond 2^53 lose precision; every check treats them as "far too large" all the same.
      (draft[spec.field as "subnetLen"] as number) = Number(v.raw);
      return undefined;
    }
    case "ip4net":
    case "ip6net": {
      const text = addressText(v);
      const parsed = goParseCidr(text);
      if (!parsed) throw new NetConfError(`invalid CIDR address: ${text}`, spec.field);
      const want = spec.kind === "ip4net" ? 4 : 6;
      if (parsed.ip.family !== want) {
        // flannel HEAD rejects an IPv6 Network with this text. For an IPv4 CIDR in IPv6Network flannel
        // would keep an IPv4-mapped address with the IPv4 prefix length; we reject it the same way instead.
        throw new NetConfError(`invalid IPv${want} CIDR format`, spec.field);
      }
      (draft[spec.field as "network"] as Cidr) = cidrOf(parsed.ip, parsed.prefixLength);
      return undefined;
    }
    case "ip4": {
      const ip = tryParseIp(addressText(v));
      if (!ip) throw new NetConfError("invalid IP address format", spec.field);
      if (ip.family !== 4) throw new NetConfError("invalid IPv4 address format", spec.field);
      (draft[spec.field as "subnetMin"] as IpAddr) = ip;
      return undefined;
    }
    case "ip6ptr": {
      if (v.kind === "null") {
        (draft[spec.field as "ipv6SubnetMin"] as IpAddr | undefined) = undefined;
        return undefined;
      }
      const ip = tryParseIp(addressText(v));
      if (!ip) throw new NetConfError("invalid IP address format", spec.field);
      (draft[spec.field as "ipv6SubnetMin"] as IpAddr) = mapped(ip);
      return undefined;
    }
    case "raw":
      draft.backend = v;
      return undefined;
  }
}

/** flannel's parseBackendType: `udp` when absent, `Type` (any case of the key) otherwise. */
function backendTypeOf(raw: GoJsonValue | undefined): string {
  if (raw === undefined) return "udp";
  const wrap = (msg: string): NetConfError => new NetConfError(`error decoding Backend property of config: ${msg}`, "backend");
  if (raw.kind === "null") return "";
  if (raw.kind !== "object") throw wrap(`json: cannot unmarshal ${raw.kind} into Go value of type struct { Type string }`);
  let type = "";
  let saved: string | undefined;
  for (const [key, value] of raw.entries) {
    if (foldName(key) !== "type") continue;
    if (value.kind === "null") continue;
    if (value.kind !== "string") {
      saved ??= `json: cannot unmarshal ${value.kind} into Go struct field .Type of type string`;
      continue;
    }
    type = value.value;
  }
  if (saved !== undefined) throw wrap(saved);
  return type;
}

/**
 * Parses net-conf.json with flannel's semantics: keys match case-insensitively, unknown keys are
 * ignored, `EnableIPv4` defaults to true, `Network` is normalised to its network address, an absent
 * `Backend` means `"udp"` (with a warning), `backendType` is lower-cased, and unless `check: false`
 * SubnetLen/SubnetMin/SubnetMax (and the IPv6 equivalents) are defaulted and validated by
 * {@linkcode checkNetConf}.
 *
 * @throws {NetConfError} for anything flannel rejects, with flannel's exact message, or Go's
 * encoding/json wording for JSON-level errors (`unexpected end of JSON input`,
 * `json: cannot unmarshal number -1 into Go struct field Config.SubnetLen of type uint`).
 * @example
 * ```ts
 * import { parseNetConf } from "@weft/netconf";
 * const conf = parseNetConf('{ "network": "10.3.0.0/16" }', { onWarning: console.warn });
 * // conf.subnetLen === 24; conf.subnetMin.address === "10.3.1.0"; conf.subnetMax.address === "10.3.255.0"
 * ```
 */
export function parseNetConf(text: string, options: ParseNetConfOptions = {}): NetConf {
  if (typeof text !== "string") throw new TypeError(`parseNetConf: text must be a string, got ${typeof text}`);
  let doc: GoJsonValue;
  try {
    doc = parseGoJson(text);
  } catch (err) {
    if (err instanceof GoJsonSyntaxError) throw new NetConfError(err.message, "document", { cause: err });
    throw err;
  }
  const draft: Draft = {
    network: undefined,
    subnetLen: 0,
    subnetMin: undefined,
    subnetMax: undefined,
    enableIPv4: true, // flannel sets this before unmarshalling
    enableIPv6: false,
    ipv6Network: undefined,
    ipv6SubnetLen: 0,
    ipv6SubnetMin: undefined,
    ipv6SubnetMax: undefined,
    enableNFTables: false,
    backend: undefined,
  };
  if (doc.kind !== "object" && doc.kind !== "null") {
    throw new NetConfError(`json: cannot unmarshal ${doc.kind} into Go value of type subnet.Config`, "document");
  }
  let saved: NetConfError | undefined;
  if (doc.kind === "object") {
    for (const [key, value] of doc.entries) {
      const spec = BY_FOLDED.get(foldName(key));
      if (!spec) continue;
      const typeError = decodeField(draft, spec, value);
      if (typeError !== undefined) saved ??= new NetConfError(typeError, spec.field);
    }
  }
  if (saved) throw saved;

  const backendType = backendTypeOf(draft.backend).toLowerCase();
  if (draft.backend === undefined) options.onWarning?.(UDP_DEFAULT_WARNING);
  const backend = draft.backend?.kind === "object" ? (goJsonToPlain(draft.backend) as Record<string, unknown>) : undefined;
  const conf: NetConf = {
    network: draft.network,
    subnetLen: draft.subnetLen,
    subnetMin: draft.subnetMin,
    subnetMax: draft.subnetMax,
    enableIPv4: draft.enableIPv4,
    enableIPv6: draft.enableIPv6,
    ipv6Network: draft.ipv6Network,
    ipv6SubnetLen: draft.ipv6SubnetLen,
    ipv6SubnetMin: draft.ipv6SubnetMin,
    ipv6SubnetMax: draft.ipv6SubnetMax,
    enableNFTables: draft.enableNFTables,
    backendType,
    backend,
  };
  return options.check === false ? conf : checkNetConf(conf);
}
