import { compareVersions } from "./cni_version.ts";
import type { CniInterface, CniIpConfig, CniResult, CniRoute } from "./types.ts";

/**
 * Renders a result in the requested spec version: 0.3.x/0.4.0 results carry `ips[].version`
 * ("4"/"6"), 1.0.0 results do not, and the fields new in 1.1.0 (`interfaces[].mtu`, `socketPath`,
 * `pciID`, `routes[].mtu`, `advmss`, `priority`, `table`, `scope`) are dropped for older versions.
 */
export function convertResult(result: CniResult, cniVersion: string): CniResult {
  const pre10 = compareVersions(cniVersion, "1.0.0") < 0;
  const pre11 = compareVersions(cniVersion, "1.1.0") < 0;
  const out: CniResult = { cniVersion };
  if (result.interfaces) {
    out.interfaces = result.interfaces.map((i) => {
      const o: CniInterface = { name: i.name };
      if (i.mac !== undefined) o.mac = i.mac;
      if (!pre11 && i.mtu !== undefined) o.mtu = i.mtu;
      if (i.sandbox !== undefined && i.sandbox !== "") o.sandbox = i.sandbox;
      if (!pre11 && i.socketPath !== undefined) o.socketPath = i.socketPath;
      if (!pre11 && i.pciID !== undefined) o.pciID = i.pciID;
      return o;
    });
  }
  if (result.ips) {
    out.ips = result.ips.map((ip) => {
      const o: CniIpConfig = {
        ...(pre10 ? { version: ip.version ?? (ip.address.includes(":") ? "6" : "4") } : {}),
        ...(ip.interface !== undefined ? { interface: ip.interface } : {}),
        address: ip.address,
      };
      if (ip.gateway !== undefined) o.gateway = ip.gateway;
      return o;
    });
  }
  if (result.routes) {
    out.routes = result.routes.map((r) => {
      const o: CniRoute = { dst: r.dst };
      if (r.gw !== undefined) o.gw = r.gw;
      if (!pre11) for (const k of ["mtu", "advmss", "priority", "table", "scope"] as const) if (r[k] !== undefined) o[k] = r[k];
      return o;
    });
  }
  out.dns = result.dns ?? {};
  return out;
}
