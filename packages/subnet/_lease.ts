// Lease helpers shared by the registries, the watcher and the manager (private).
import type { Lease, LeaseAttrs } from "./types.ts";
import { formatSubnetKey } from "./subnet_key.ts";
import { encodeLeaseAttrs } from "./lease_json.ts";
import { ipText } from "./_ip.ts";

/** The lease's subnet key (its identity). */
export function leaseKey(lease: Pick<Lease, "subnet" | "ipv6Subnet">): string {
  return formatSubnetKey(lease);
}

/** The lease's owner: its IPv4 public IP, or its IPv6 one when it has no IPv4 one; "" when it has neither. */
export function ownerOf(attrs: LeaseAttrs): string {
  if (attrs.publicIp) return ipText(attrs.publicIp);
  if (attrs.publicIpv6) return ipText(attrs.publicIpv6);
  return "";
}

/** Whether two leases/attrs have the same non-empty owner. */
export function sameOwner(a: LeaseAttrs, b: LeaseAttrs): boolean {
  const o = ownerOf(a);
  return o !== "" && o === ownerOf(b);
}

/** Whether two leases publish the same attributes (expiration ignored). */
export function sameAttrs(a: LeaseAttrs, b: LeaseAttrs): boolean {
  return encodeLeaseAttrs(a) === encodeLeaseAttrs(b);
}

/** Only the attribute fields of a lease. */
export function attrsOf(l: LeaseAttrs): LeaseAttrs {
  const out: { -readonly [K in keyof LeaseAttrs]: LeaseAttrs[K] } = {};
  if (l.publicIp) out.publicIp = l.publicIp;
  if (l.publicIpv6) out.publicIpv6 = l.publicIpv6;
  if (l.backendType !== undefined) out.backendType = l.backendType;
  if (l.backendData !== undefined) out.backendData = l.backendData;
  if (l.backendV6Data !== undefined) out.backendV6Data = l.backendV6Data;
  return out;
}

/** Builds a lease from subnets, attributes and an optional expiration, leaving absent fields out. */
export function makeLease(subnets: Pick<Lease, "subnet" | "ipv6Subnet">, attrs: LeaseAttrs, expiration?: number): Lease {
  const out: { -readonly [K in keyof Lease]: Lease[K] } = {};
  if (subnets.subnet) out.subnet = subnets.subnet;
  if (subnets.ipv6Subnet) out.ipv6Subnet = subnets.ipv6Subnet;
  Object.assign(out, attrsOf(attrs));
  if (expiration !== undefined) out.expiration = expiration;
  return out;
}
