import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { ExternalInterface, Network } from "@weft/backend";
import { parseCidr, parseIp } from "@weft/ipam";
import { createIpRoute } from "@weft/iproute";
import type { Lease, LeaseAttrs } from "@weft/subnet";
import { kernelTest, sh, withUnderlay, type UnderlayNode } from "@weft/testutils";
import { CONF } from "./_test_helpers.ts";
import { createHostGwBackend } from "./host_gw.ts";

const test = kernelTest(suite("host-gw backend in network namespaces"), { needs: ["root", "ip"] });

const inNs = (ns: string, ...argv: string[]) => sh(["ip", "netns", "exec", ns, ...argv]);

async function node(n: UnderlayNode, subnet: string): Promise<Network> {
  const ext: ExternalInterface = { name: n.dev, index: n.index, mtu: 1500, address: parseIp(n.address) };
  return createHostGwBackend({ iproute: createIpRoute({ netns: n.netns }), externalInterface: ext, resyncMs: 50 }).registerNetwork(CONF, {
    acquireLease: async (attrs: LeaseAttrs): Promise<Lease> => ({ ...attrs, subnet: parseCidr(subnet) }),
  });
}

test("pods on two nodes reach each other via host-gw routes; an off-L2 peer is reported alone", () =>
  withUnderlay("hg", async ([na, nb]) => {
    const [a, b, ea] = [na.netns, nb.netns, na.dev];
    await sh(["ip", "-n", a, "route", "add", "default", "via", "198.18.0.254"]);
    for (const [ns, pod] of [[a, "10.244.1.5/32"], [b, "10.244.2.5/32"]] as const) {
      await sh(["ip", "-n", ns, "addr", "add", pod, "dev", "lo"]);
      await inNs(ns, "sysctl", "-qw", "net.ipv4.ip_forward=1");
    }

    const netA = await node(na, "10.244.1.0/24");
    const netB = await node(nb, "10.244.2.0/24");
    assert.is(netA.mtu, 1500);
    assert.is(netA.lease.backendData, null);
    const far: Lease = { subnet: parseCidr("10.244.3.0/24"), publicIp: parseIp("203.0.113.5"), backendType: "host-gw", backendData: null };
    await netA.handleLeaseEvent({ type: "snapshot", leases: [netA.lease, netB.lease, far] });
    await netB.handleLeaseEvent({ type: "snapshot", leases: [netA.lease, netB.lease] });

    assert.match(await sh(["ip", "-n", a, "route", "show", "10.244.2.0/24"]), new RegExp(`10\\.244\\.2\\.0/24 via 198\\.18\\.0\\.2 dev ${ea}`));
    assert.is((await sh(["ip", "-n", a, "route", "show", "10.244.3.0/24"])).trim(), "");
    assert.equal([...netA.peerErrors().keys()], ["10.244.3.0/24"]);
    assert.match(netA.peerErrors().get("10.244.3.0/24")?.message ?? "", /same L2 network: 203\.0\.113\.5 is reachable only through the gateway 198\.18\.0\.254/);
    await inNs(a, "ping", "-c", "1", "-W", "2", "-I", "10.244.1.5", "10.244.2.5");

    // a deleted route comes back with the periodic check
    const stop = new AbortController();
    const running = netA.run(stop.signal);
    try {
      await sh(["ip", "-n", a, "route", "del", "10.244.2.0/24"]);
      const deadline = Date.now() + 5000;
      while (!(await sh(["ip", "-n", a, "route", "show", "10.244.2.0/24"])).includes("via") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      assert.match(await sh(["ip", "-n", a, "route", "show", "10.244.2.0/24"]), /via 198\.18\.0\.2/);
    } finally {
      stop.abort();
      await running;
    }

    await netA.handleLeaseEvent({ type: "removed", lease: netB.lease });
    assert.is((await sh(["ip", "-n", a, "route", "show", "10.244.2.0/24"])).trim(), "");
    assert.match(await sh(["ip", "-n", a, "route", "show", "default"]), /via 198\.18\.0\.254/, "foreign routes stay");
  }),
);

test.run();
