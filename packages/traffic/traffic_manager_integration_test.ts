import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createNftables } from "nftables-js";
import { kernelTest, sh, uniqueName, withNetns } from "@weft/testutils";
import { TrafficManager } from "./traffic_manager.ts";

const test = kernelTest(suite("TrafficManager in a network namespace"), { needs: ["root", "ip", "nft", "conntrack"] });

const inNs = (ns: string, ...argv: string[]) => sh(["ip", "netns", "exec", ns, ...argv]);

/** Joins `a` and `b` with a veth pair, addresses them and brings both ends up. */
async function veth(a: string, addrA: string, b: string, addrB: string): Promise<void> {
  const ea = uniqueName("wa");
  const eb = uniqueName("wb");
  await sh(["ip", "-n", a, "link", "add", ea, "type", "veth", "peer", "name", eb, "netns", b]);
  await sh(["ip", "-n", a, "addr", "add", addrA, "dev", ea]);
  await sh(["ip", "-n", b, "addr", "add", addrB, "dev", eb]);
  await sh(["ip", "-n", a, "link", "set", ea, "up"]);
  await sh(["ip", "-n", b, "link", "set", eb, "up"]);
}

test("pod → outside is masqueraded to the node address while pod → pod keeps its source", () =>
  withNetns("tnode", (node) =>
    withNetns("tpod", (pod) =>
      withNetns("tpod2", (pod2) =>
        withNetns("tout", async (out) => {
          // node: 10.42.1.1 (local pods), 10.42.2.1 (stands in for the route to a remote node's pods), 198.18.0.1 (uplink)
          await veth(node, "10.42.1.1/24", pod, "10.42.1.2/24");
          await veth(node, "10.42.2.1/24", pod2, "10.42.2.2/24");
          await veth(node, "198.18.0.1/24", out, "198.18.0.2/24");
          await sh(["ip", "-n", pod, "route", "add", "default", "via", "10.42.1.1"]);
          await sh(["ip", "-n", pod2, "route", "add", "default", "via", "10.42.2.1"]);
          await inNs(node, "sysctl", "-qw", "net.ipv4.ip_forward=1");
          // `out` has no route back to 10.42.0.0/16: a reply arrives only when the source was rewritten.

          const tm = new TrafficManager((family, table) => createNftables({ family, table, netns: node }), {
            network: "10.42.0.0/16",
            podSubnet: "10.42.1.0/24",
          });
          await tm.install();
          assert.is(await tm.ensure(), false, "freshly installed rules must match the kernel listing");
          // a restarted agent (no memory of the install) sees nft's listing equal to its own rule text
          const restarted = new TrafficManager((family, table) => createNftables({ family, table, netns: node }), {
            network: "10.42.0.0/16",
            podSubnet: "10.42.1.0/24",
          });
          assert.is(await restarted.ensure(), false, "nft prints the rules exactly as rendered");

          await inNs(pod, "ping", "-c", "1", "-W", "2", "198.18.0.2");
          await inNs(pod, "ping", "-c", "1", "-W", "2", "10.42.2.2");
          const ct = await inNs(node, "conntrack", "-L", "-p", "icmp");
          const toOut = ct.split("\n").find((l) => l.includes("src=10.42.1.2 dst=198.18.0.2"));
          const toPod = ct.split("\n").find((l) => l.includes("src=10.42.1.2 dst=10.42.2.2"));
          assert.ok(toOut, ct);
          assert.ok(toPod, ct);
          // the reply tuple names the address the far end saw as the source
          assert.match(toOut, /src=198\.18\.0\.2 dst=198\.18\.0\.1 /);
          assert.match(toPod, /src=10\.42\.2\.2 dst=10\.42\.1\.2 /);

          // someone flushes our chain: ensure() puts it back
          await inNs(node, "nft", "flush", "chain", "ip", "weft-masq", "postrouting");
          assert.is(await tm.ensure(), true);
          assert.match(await inNs(node, "nft", "list", "chain", "ip", "weft-masq", "postrouting"), /masquerade fully-random/);

          await tm.uninstall();
          const left = await inNs(node, "nft", "list", "tables");
          assert.not.match(left, /weft-/);
        }),
      ),
    ),
  ),
);

test.run();
