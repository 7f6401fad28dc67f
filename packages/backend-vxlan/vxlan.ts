/**
 * flannel's vxlan backend (pkg/backend/vxlan): `flannel.<VNI>` for IPv4, `flannel-v6.<VNI>` for IPv6.
 *
 * Design notes (kernel behaviour and history, see flannel's vxlan.go):
 * - No L2/L3-miss callouts: every remote node gets a permanent neighbour entry (its subnet's .0
 *   address → its VtepMAC), an FDB entry (VtepMAC → its public IP) and an onlink route for its
 *   subnet via that .0 address, so traffic never waits on a userspace daemon and survives restarts.
 * - The device gets `<lease subnet>.0/32` (`/128` for IPv6): a source address for host → pod traffic that creates
 *   no broadcast or subnet routes. There is no route for the whole Network on the device.
 * - The VtepMAC is published in the lease and must stay stable: the MAC of the previous lease
 *   (passed in by the agent) is reused, and the device gets its MAC at creation time, before
 *   udev/systemd (MACAddressPolicy) can assign another one (flannel #1795, PR #1485).
 * - `nolearning` unless `Learning`: the FDB is programmed, not learned.
 * - MTU = (`MTU` or the external interface MTU) - 50; Weft also corrects the MTU of an existing
 *   device (flannel reuses it unchanged, #841). Over IPv6 the overhead is 70 bytes (flannel
 *   subtracts 50 there too), and with IPv6 enabled the pod MTU is the IPv6 device's.
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
    const ext = this.#deps.externalInterface;
    const v4 = config.enableIPv4;
    const v6 = config.enableIPv6;
    if (!v4 && !v6) throw new TypeError("EnableIPv4: the vxlan backend needs IPv4 or IPv6 enabled");
    if (v4 && !config.network) throw new TypeError("Network: the vxlan backend needs the IPv4 Network");
    if (v6 && !config.ipv6Network) throw new TypeError("IPv6Network: the vxlan backend needs the IPv6 Network");
    if (v4 && !ext.address) throw new TypeError(`externalInterface: ${ext.name} has no IPv4 address`);
    if (v6 && !ext.addressV6) throw new TypeError(`externalInterface: ${ext.name} has no IPv6 address`);
    const mtu4 = vxlanMtu(cfg, ext.mtu);
    const mtu6 = vxlanMtu(cfg, ext.mtu, { family: 6 });
    // pods send both families through one interface: the smaller MTU when IPv6 is on
    const mtu = v6 ? mtu6 : mtu4;

    const base = { vni: cfg.vni, port: cfg.port, gbp: cfg.gbp, learning: cfg.learning, externalName: ext.name };
    // Devices first (their MACs go into the lease), each keeping the MAC of the previous lease.
    let dev4: VxlanDeviceSpec | undefined;
    let dev6: VxlanDeviceSpec | undefined;
    if (v4 && ext.address) {
      const mac = this.#previousMac(options.previousBackendData);
      const spec: VxlanDeviceSpec = { ...base, mtu: mtu4, name: vxlanDeviceName(cfg.vni), local: ext.address, ...(mac ? { mac } : {}) };
      // From now on the device keeps this MAC, also when it has to be recreated.
      dev4 = { ...spec, mac: (await ensureVxlanDevice(this.#deps.iproute, spec, { logger: this.#log })).mac };
    }
    if (v6 && ext.addressV6) {
      const mac = this.#previousMac(options.previousBackendV6Data);
      const spec: VxlanDeviceSpec = { ...base, mtu: mtu6, name: vxlanDeviceName(cfg.vni, { family: 6 }), local: ext.addressV6, ...(mac ? { mac } : {}) };
      dev6 = { ...spec, mac: (await ensureVxlanDevice(this.#deps.iproute, spec, { logger: this.#log })).mac };
    }

    const publicIp = ext.publicIp ?? ext.address;
    const publicIpv6 = ext.publicIpv6 ?? ext.addressV6;
    const lease = await options.acquireLease(
      {
        backendType: this.type,
        ...(dev4 && publicIp ? { publicIp, backendData: formatVxlanBackendData({ vni: cfg.vni, vtepMac: dev4.mac ?? "" }) } : {}),
        ...(dev6 && publicIpv6 ? { publicIpv6, backendV6Data: formatVxlanBackendData({ vni: cfg.vni, vtepMac: dev6.mac ?? "" }) } : {}),
      },
      options.signal ? { signal: options.signal } : {},
    );
    // `<subnet>.0/32` (`/128`): a source address for host → pod traffic, no broadcast or subnet routes.
    if (dev4 && config.network) {
      if (!lease.subnet) throw new TypeError("lease: has no IPv4 subnet");
      await configureVxlanDevice(this.#deps.iproute, dev4.name, { address: { family: 4, address: lease.subnet.address, prefixLength: 32 }, network: config.network, mac: dev4.mac ?? "" });
    }
    if (dev6 && config.ipv6Network) {
      if (!lease.ipv6Subnet) throw new TypeError("lease: has no IPv6 subnet");
      await configureVxlanDevice(this.#deps.iproute, dev6.name, { address: { family: 6, address: lease.ipv6Subnet.address, prefixLength: 128 }, network: config.ipv6Network, mac: dev6.mac ?? "" });
    }
    return new VxlanNetwork({
      config,
      lease,
      mtu,
      ...(dev4 ? { device: dev4 } : {}),
      ...(dev6 ? { deviceV6: dev6 } : {}),
      externalInterface: ext,
      iproute: this.#deps.iproute,
      ...(this.#deps.ipSession ? { ipSession: this.#deps.ipSession } : {}),
      directRouting: cfg.directRouting,
      logger: this.#log,
      ...(this.#deps.resyncMs === undefined ? {} : { resyncMs: this.#deps.resyncMs }),
    });
  }

  #previousMac(data: unknown): string | undefined {
    if (data === undefined || data === null) return undefined;
    try {
      return parseVxlanBackendData(data).vtepMac;
    } catch (err) {
      this.#log.warn({ err }, "previous backend data has no usable VtepMAC; the device keeps or gets another MAC");
      return undefined;
    }
  }
}
