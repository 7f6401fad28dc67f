import type { LeaseAttrs } from "./types.ts";
import { ipOf, ipText } from "./_ip.ts";

/**
 * Encodes lease attributes as flannel's `LeaseAttrs` JSON, exactly as flannel writes it to etcd:
 * `{"PublicIP":"1.2.3.4","PublicIPv6":null}`, plus `BackendType`, `BackendData`, `BackendV6Data` when set
 * (`omitempty`; a `null` backend data, as host-gw publishes, is kept). Without an IPv4 address `PublicIP`
 * is `"0.0.0.0"`, as Go marshals flannel's zero `ip.IP4`.
 *
 * @example
 * ```ts
 * encodeLeaseAttrs({ publicIp: parseIp("1.2.3.4") }); // '{"PublicIP":"1.2.3.4","PublicIPv6":null}'
 * ```
 */
export function encodeLeaseAttrs(attrs: LeaseAttrs): string {
  const out: Record<string, unknown> = {
    PublicIP: attrs.publicIp ? ipText(attrs.publicIp) : "0.0.0.0",
    PublicIPv6: attrs.publicIpv6 ? ipText(attrs.publicIpv6) : null,
  };
  if (attrs.backendType) out.BackendType = attrs.backendType;
  if (attrs.backendData !== undefined) out.BackendData = attrs.backendData;
  if (attrs.backendV6Data !== undefined) out.BackendV6Data = attrs.backendV6Data;
  return JSON.stringify(out);
}

/**
 * Decodes flannel's `LeaseAttrs` JSON. Field names match case-insensitively, as with Go's encoding/json.
 * Throws `SyntaxError` for text that is not a JSON object or has an invalid address.
 */
export function decodeLeaseAttrs(text: string): LeaseAttrs {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SyntaxError("decodeLeaseAttrs: lease value must be a JSON object");
  }
  const fields = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value)) fields.set(k.toLowerCase(), v);
  const ip = (name: string, family: 4 | 6) => {
    const v = fields.get(name.toLowerCase());
    if (v === undefined || v === null || v === "") return undefined;
    const parsed = typeof v === "string" ? ipOf(v) : undefined;
    if (!parsed || parsed.family !== family) throw new SyntaxError(`decodeLeaseAttrs: ${name} is not an IPv${family} address: ${JSON.stringify(v)}`);
    return parsed;
  };
  const publicIp = ip("PublicIP", 4);
  const publicIpv6 = ip("PublicIPv6", 6);
  const backendType = fields.get("backendtype");
  if (backendType !== undefined && typeof backendType !== "string") throw new SyntaxError("decodeLeaseAttrs: BackendType must be a string");
  const attrs: { -readonly [K in keyof LeaseAttrs]: LeaseAttrs[K] } = {};
  if (publicIp && ipText(publicIp) !== "0.0.0.0") attrs.publicIp = publicIp;
  if (publicIpv6) attrs.publicIpv6 = publicIpv6;
  if (backendType) attrs.backendType = backendType;
  if (fields.has("backenddata")) attrs.backendData = fields.get("backenddata");
  if (fields.has("backendv6data")) attrs.backendV6Data = fields.get("backendv6data");
  return attrs;
}
