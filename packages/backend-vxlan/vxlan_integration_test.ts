import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { ExternalInterface, Network } from "@weft/backend";
import { parseCidr, parseIp } from "@weft/ipam";
import { createIpRoute } from "@weft/iproute";
import type { NetConf } from "@weft/netconf";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { kernelTest, sh, withUnderlay, type UnderlayNode } from "@weft/testutils";
import { CONF } from "./_test_helpers.ts";
import { createVxlanBackend } from "./vxlan.ts";
import type { VxlanNetwork } from "./vxlan_network.ts";

const test = kernelTest(suite("vxlan backend in network namespaces"), { needs: ["root", "ip", "bridge"] });

const inNs = (ns: string, ...argv: string[]) => sh(["ip", "netns", "exec", ns, ...argv]);

async function node(n: UnderlayNode, subnet: string, previousBackendData?: unknown): Promise<Network> {
  const ext: ExternalInterface = { name: n.dev, index: n.index, mtu: 1500, address: parseIp(n.address) };
  const backend = createVxlanBackend({ iproute: createIpRoute({ netns: n.netns }), externalInterface: ext, resyncMs: 50 });
  return backend.registerNetwork(CONF, {
    acquireLease: async (attrs: LeaseAttrs): Promise<Lease> => ({ ...attrs, subnet: parseCidr(subnet) }),
    ...(previousBackendData === undefined ? {} : { previousBackendData }),
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("two nodes reach each other's pods through flannel.1 with flannel's kernel state", () =>
  withUnderlay("vx", async ([na, nb]) => {
    const [a, b] = [na.netns, nb.netns];
    // the "pods": one address per node on lo, inside its lease subnet
    await sh(["ip", "-n", a, "addr", "add", "10.244.1.5/32", "dev", "lo"]);
    await sh(["ip", "-n", b, "addr", "add", "10.244.2.5/32", "dev", "lo"]);

    const netA = (await node(na, "10.244.1.0/24")) as VxlanNetwork;
    const netB = await node(nb, "10.244.2.0/24");
    assert.is(netA.mtu, 1450);
    const dataB = netB.lease.backendData as { VNI: number; VtepMAC: string };
    assert.is(JSON.stringify(dataB), `{"VNI":1,"VtepMAC":"${dataB.VtepMAC}"}`);
    const leases = [netA.lease, netB.lease];
    await netA.handleLeaseEvent({ type: "snapshot", leases });
    await netB.handleLeaseEvent({ type: "snapshot", leases });

    const link = await sh(["ip", "-n", a, "-d", "link", "show", "flannel.1"]);
    assert.match(link, /mtu 1450/);
    assert.match(link, /vxlan id 1 local 198\.18\.0\.1 dev \S+ srcport \d+ \d+ dstport 8472 nolearning/);
    assert.match(await sh(["ip", "-n", a, "addr", "show", "dev", "flannel.1"]), /inet 10\.244\.1\.0\/32/);
    assert.match(await sh(["ip", "-n", a, "neigh", "show", "dev", "flannel.1"]), new RegExp(`10\\.244\\.2\\.0 lladdr ${dataB.VtepMAC} PERMANENT`));
    assert.match(await sh(["bridge", "-n", a, "fdb", "show", "dev", "flannel.1"]), new RegExp(`${dataB.VtepMAC} dst 198\\.18\\.0\\.2 self permanent`));
    assert.match(await sh(["ip", "-n", a, "route", "show", "10.244.2.0/24"]), /10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink/);

    await inNs(a, "ping", "-c", "1", "-W", "2", "-I", "10.244.1.5", "10.244.2.5");
    await inNs(b, "ping", "-c", "1", "-W", "2", "-I", "10.244.2.5", "10.244.1.5");

    // someone deletes flannel.1: the monitor (or the periodic check) recreates it with its entries
    const stop = new AbortController();
    const running = netA.run(stop.signal);
    try {
      const macA = (netA.lease.backendData as { VtepMAC: string }).VtepMAC;
      await sh(["ip", "-n", a, "link", "del", "flannel.1"]);
      await waitFor("flannel.1 with its route", async () => /flannel\.1/.test(await sh(["ip", "-n", a, "route", "show", "10.244.2.0/24"])));
      assert.match(await sh(["ip", "-n", a, "link", "show", "flannel.1"]), new RegExp(`link/ether ${macA}`), "the VtepMAC survives");
      await inNs(a, "ping", "-c", "1", "-W", "2", "-I", "10.244.1.5", "10.244.2.5");

      // someone deletes the FDB entry: it comes back
      await sh(["bridge", "-n", a, "fdb", "del", dataB.VtepMAC, "dev", "flannel.1", "dst", "198.18.0.2", "self"]);
      await waitFor("the FDB entry", async () => (await sh(["bridge", "-n", a, "fdb", "show", "dev", "flannel.1"])).includes("198.18.0.2"));
    } finally {
      stop.abort();
      await running;
    }

    // the peer leaves: its neighbour, FDB entry and route go
    await netA.handleLeaseEvent({ type: "removed", lease: netB.lease });
    assert.not.match(await sh(["ip", "-n", a, "neigh", "show", "dev", "flannel.1"]), /10\.244\.2\.0/);
    assert.not.match(await sh(["bridge", "-n", a, "fdb", "show", "dev", "flannel.1"]), /198\.18\.0\.2/);
    assert.is((await sh(["ip", "-n", a, "route", "show", "10.244.2.0/24"])).trim(), "");

    // a restart with the published backend data keeps the same device and MAC
    const again = await node(na, "10.244.1.0/24", netA.lease.backendData);
    assert.equal(again.lease.backendData, netA.lease.backendData);
  }),
);

test("dual-stack: pods reach each other over IPv4 and IPv6 tunnels (flannel.1 and flannel-v6.1)", () =>
  withUnderlay("vx6", async ([na, nb]) => {
    const a = na.netns;
    for (const [ns, pod4, pod6] of [
      [na.netns, "10.244.1.5/32", "fd00:10:0:1::5/128"],
      [nb.netns, "10.244.2.5/32", "fd00:10:0:2::5/128"],
    ] as const) {
      await sh(["ip", "-n", ns, "addr", "add", pod4, "dev", "lo"]);
      await sh(["ip", "-n", ns, "-6", "addr", "add", pod6, "dev", "lo"]);
    }
    const conf: NetConf = { ...CONF, enableIPv6: true, ipv6Network: parseCidr("fd00:10::/56"), ipv6SubnetLen: 64 };
    const start = async (u: UnderlayNode, n: number): Promise<Network> => {
      const ext: ExternalInterface = { name: u.dev, index: u.index, mtu: 1500, address: parseIp(u.address), addressV6: parseIp(u.address6!) };
      return createVxlanBackend({ iproute: createIpRoute({ netns: u.netns }), externalInterface: ext }).registerNetwork(conf, {
        acquireLease: async (attrs: LeaseAttrs): Promise<Lease> => ({ ...attrs, subnet: parseCidr(`10.244.${n}.0/24`), ipv6Subnet: parseCidr(`fd00:10:0:${n}::/64`) }),
      });
    };
    const netA = await start(na, 1);
    const netB = await start(nb, 2);
    assert.is(netA.mtu, 1430);
    for (const net of [netA, netB]) await net.handleLeaseEvent({ type: "snapshot", leases: [netA.lease, netB.lease] });
    assert.match(await sh(["ip", "-n", a, "-d", "link", "show", "flannel-v6.1"]), /mtu 1430 .*vxlan id 1 local fd00:18::1/s);
    assert.match(await sh(["ip", "-n", a, "-6", "route", "show", "fd00:10:0:2::/64"]), /via fd00:10:0:2:: dev flannel-v6\.1 .*onlink/);
    await inNs(a, "ping", "-c", "1", "-W", "2", "-I", "10.244.1.5", "10.244.2.5");
    await inNs(a, "ping", "-6", "-c", "1", "-W", "2", "-I", "fd00:10:0:1::5", "fd00:10:0:2::5");
  }, { ipv6: true }),
);

test.run();
