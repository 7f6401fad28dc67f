/**
 * flannel's vxlan backend (pkg/backend/vxlan), IPv4.
 *
 * Design notes (kernel behaviour and history, see flannel's vxlan.go):
 * - No L2/L3-miss callouts: every remote node gets a permanent neighbour entry (its subnet's .0
 *   address → its VtepMAC), an FDB entry (VtepMAC → its public IP) and an onlink route for its
 *   subnet via that .0 address, so traffic never waits on a userspace daemon and survives restarts.
 * - The device gets `<lease subnet>.0/32`: a source address for host → pod traffic that creates
 *   no broadcast or subnet routes. There is no route for the whole Network on the device.
 * - The VtepMAC is published in the lease and must stay stable: the MAC of the previous lease
 *   (passed in by the agent) is reused, and the device gets its MAC at creation time, before
 *   udev/systemd (MACAddressPolicy) can assign another one (flannel #1795, PR #1485).
 * - `nolearning` unless `Learning`: the FDB is programmed, not learned.
 * - MTU = (`MTU` or the external interface MTU) - 50; Weft also corrects the MTU of an existing
 *   device (flannel reuses it unchanged, #841).
 */
import type { Backend, BackendDeps, Logger, Network, RegisterNetworkOptions } from "@weft/backend";
import { noopLogger } from "@weft/backend";
import type { NetConf } from "@weft/netconf";
import { configureVxlanDevice, ensureVxlanDevice, type VxlanDeviceSpec } from "./device.ts";
import { formatVxlanBackendData, parseVxlanBackendData } from "./vxlan_backend_data.ts";
import { parseVxlanConfig, vxlanDeviceName, vxlanMtu } from "./vxlan_config.ts";
import { VxlanNetwork } from "./vxlan_network.ts";

/** The vxlan {@linkcode BackendFactory} for the agent's registry. */
export function createVxlanBackend(deps: BackendDeps): Backend {
  return new VxlanBackend(deps);
}

class VxlanBackend implements Backend {
  readonly type = "vxlan";
  readonly #deps: BackendDeps;
  readonly #log: Logger;
  constructor(deps: BackendDeps) {
    this.#deps = deps;
    this.#log = deps.logger ?? noopLogger;
  }

  async registerNetwork(config: NetConf, options: RegisterNetworkOptions): Promise<Network> {
    const cfg = parseVxlanConfig(config.backend);
    this.#log.info(
      { vni: cfg.vni, port: cfg.port, gbp: cfg.gbp, learning: cfg.learning, directRouting: cfg.directRouting },
      `VXLAN config: VNI=${cfg.vni} Port=${cfg.port} GBP=${cfg.gbp} Learning=${cfg.learning} DirectRouting=${cfg.directRouting}`,
    );
    if (config.enableIPv6) throw new RangeError("EnableIPv6: Weft's vxlan backend supports IPv4 only (flannel-v6.<VNI> is not implemented)");
    if (!config.enableIPv4 || !config.network) throw new TypeError("Network: the vxlan backend needs an IPv4 Network");
    const ext = this.#deps.externalInterface;
    if (!ext.address) throw new TypeError(`externalInterface: ${ext.name} has no IPv4 address`);
    const publicIp = ext.publicIp ?? ext.address;
    const mtu = vxlanMtu(cfg, ext.mtu);

    let previousMac: string | undefined;
    if (options.previousBackendData !== undefined && options.previousBackendData !== null) {
      try {
        previousMac = parseVxlanBackendData(options.previousBackendData).vtepMac;
      } catch (err) {
        this.#log.warn({ err }, "previous backend data has no usable VtepMAC; the device keeps or gets another MAC");
      }
    }
    const spec: VxlanDeviceSpec = {
      name: vxlanDeviceName(cfg.vni),
      vni: cfg.vni,
      port: cfg.port,
      gbp: cfg.gbp,
      learning: cfg.learning,
      mtu,
      local: ext.address,
      externalName: ext.name,
      ...(previousMac ? { mac: previousMac } : {}),
    };
    const device = await ensureVxlanDevice(this.#deps.iproute, spec, { logger: this.#log });
    // From now on the device keeps this MAC, also when it has to be recreated.
    const pinned: VxlanDeviceSpec = { ...spec, mac: device.mac };

    const lease = await options.acquireLease(
      { publicIp, backendType: this.type, backendData: formatVxlanBackendData({ vni: cfg.vni, vtepMac: device.mac }) },
      options.signal ? { signal: options.signal } : {},
    );
    if (!lease.subnet) throw new TypeError("lease: has no IPv4 subnet");
    await configureVxlanDevice(this.#deps.iproute, spec.name, {
      address: { family: 4, address: lease.subnet.address, prefixLength: 32 },
      network: config.network,
      mac: device.mac,
    });
    return new VxlanNetwork({
      config,
      lease,
      mtu,
      device: pinned,
      externalInterface: ext,
      iproute: this.#deps.iproute,
      directRouting: cfg.directRouting,
      logger: this.#log,
      ...(this.#deps.resyncMs === undefined ? {} : { resyncMs: this.#deps.resyncMs }),
    });
  }
}
