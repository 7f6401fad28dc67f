// Private helpers for this package's tests.
import type { ExternalInterface } from "@weft/backend";
import { sampleNetConf } from "@weft/backend/testing";
import { parseCidr, parseIp } from "@weft/ipam";
import { FakeIpRoute } from "@weft/iproute/testing";
import type { NetConf } from "@weft/netconf";
import type { Lease } from "@weft/subnet";

export const CONF: NetConf = sampleNetConf("host-gw");

export const EXT: ExternalInterface = { name: "eth0", index: 2, mtu: 1500, address: parseIp("192.168.1.1") };

/** A fake node: eth0 = 192.168.1.1/24 (+ fd00:1::1/64), eth1 = 172.16.0.1/24, default via 192.168.1.254. */
export async function fakeHost(): Promise<FakeIpRoute> {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "veth", name: "eth0", peer: { name: "peer0" }, up: true });
  await ip.link.add({ type: "veth", name: "eth1", peer: { name: "peer1" }, up: true });
  await ip.address.add({ dev: "eth0", address: "192.168.1.1/24" });
  await ip.address.add({ dev: "eth0", address: "fd00:1::1/64" });
  await ip.address.add({ dev: "eth1", address: "172.16.0.1/24" });
  await ip.route.add({ dst: "default", via: "192.168.1.254", dev: "eth0" });
  return ip;
}

/** A host-gw lease of node n: subnet 10.244.n.0/24 via `pub`. */
export function hostGwLease(n: number, pub = `192.168.1.${n}`, type = "host-gw"): Lease {
  return { subnet: parseCidr(`10.244.${n}.0/24`), publicIp: parseIp(pub), backendType: type, backendData: null };
}
