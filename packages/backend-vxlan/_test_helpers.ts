// Private helpers for this package's tests.
import type { ExternalInterface } from "@weft/backend";
import { sampleNetConf } from "@weft/backend/testing";
import { parseCidr, parseIp } from "@weft/ipam";
import { FakeIpRoute } from "@weft/iproute/testing";
import type { NetConf } from "@weft/netconf";
import type { Lease } from "@weft/subnet";

export const CONF: NetConf = sampleNetConf("vxlan");

export const EXT: ExternalInterface = { name: "eth0", index: 2, mtu: 1500, address: parseIp("192.168.1.1") };

/** A fake node with eth0 = 192.168.1.1/24 and a default route via 192.168.1.254. */
export async function fakeHost(): Promise<FakeIpRoute> {
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "veth", name: "eth0", peer: { name: "peer0" }, up: true });
  await ip.address.add({ dev: "eth0", address: "192.168.1.1/24" });
  await ip.route.add({ dst: "default", via: "192.168.1.254", dev: "eth0" });
  return ip;
}

/** A vxlan lease of node n: subnet 10.244.n.0/24, public IP `pub`, VtepMAC 0e:2a:00:00:00:0n. */
export function vxlanLease(n: number, pub = `192.168.1.${n}`, mac = `0e:2a:00:00:00:0${n}`, type = "vxlan"): Lease {
  return {
    subnet: parseCidr(`10.244.${n}.0/24`),
    publicIp: parseIp(pub),
    backendType: type,
    backendData: { VNI: 1, VtepMAC: mac },
  };
}
