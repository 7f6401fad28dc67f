import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr } from "@weft/ipam";
import { createIpRoute } from "@weft/iproute";
import { kernelTest, sh, uniqueName, withNetns } from "@weft/testutils";
import { iprouteEntries, reconcileEntries, type EntryOwnership } from "./reconcile_entries.ts";

const test = kernelTest(suite("reconcileEntries() on the real kernel"), { needs: ["root", "ip", "bridge"] });

test("reconcileEntries() programs, repairs and removes neighbours, FDB entries and routes in a namespace", () =>
  withNetns("rec", async (ns) => {
    const eth = uniqueName("re");
    await sh(["ip", "-n", ns, "link", "add", eth, "type", "veth", "peer", "name", uniqueName("rp")]);
    await sh(["ip", "-n", ns, "addr", "add", "198.18.0.1/24", "dev", eth]);
    await sh(["ip", "-n", ns, "link", "set", eth, "up"]);
    await sh(["ip", "-n", ns, "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", "198.18.0.1", "dev", eth, "nolearning"]);
    await sh(["ip", "-n", ns, "link", "set", "flannel.1", "up"]);
    await sh(["ip", "-n", ns, "route", "add", "10.99.0.0/16", "via", "198.18.0.254"]); // foreign

    const kernel = iprouteEntries(createIpRoute({ netns: ns }));
    const own: EntryOwnership = { entryDevices: ["flannel.1"], routeDevices: ["flannel.1", eth], routeNetworks: [parseCidr("10.244.0.0/16")] };
    const desired = {
      neighbours: [{ dev: "flannel.1", address: "10.244.2.0", lladdr: "0e:2a:00:00:00:02" }],
      fdb: [{ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" }],
      routes: [
        { dst: "10.244.2.0/24", dev: "flannel.1", via: "10.244.2.0", onlink: true },
        { dst: "10.244.3.0/24", dev: eth, via: "198.18.0.3" },
      ],
    };
    const first = await reconcileEntries(kernel, desired, { ownership: own });
    assert.is(first.add.routes.length, 2);
    assert.match(await sh(["ip", "-n", ns, "neigh", "show", "dev", "flannel.1"]), /10\.244\.2\.0 lladdr 0e:2a:00:00:00:02 PERMANENT/);
    assert.match(await sh(["bridge", "-n", ns, "fdb", "show", "dev", "flannel.1"]), /0e:2a:00:00:00:02 dst 198\.18\.0\.2 self permanent/);
    assert.match(await sh(["ip", "-n", ns, "route"]), /10\.244\.2\.0\/24 via 10\.244\.2\.0 dev flannel\.1 onlink/);
    assert.equal(await kernel.read(own), desired, "reading back gives exactly what was written");

    const again = await reconcileEntries(kernel, desired, { ownership: own });
    assert.equal(again.add, { neighbours: [], fdb: [], routes: [] }, "converged: nothing to do");

    await sh(["ip", "-n", ns, "route", "del", "10.244.3.0/24"]);
    await sh(["ip", "-n", ns, "neigh", "del", "10.244.2.0", "dev", "flannel.1"]);
    const repair = await reconcileEntries(kernel, desired, { ownership: own });
    assert.is(repair.add.routes.length + repair.add.neighbours.length, 2);
    assert.equal(await kernel.read(own), desired);

    await reconcileEntries(kernel, { neighbours: [], fdb: [], routes: [] }, { ownership: own });
    assert.equal(await kernel.read(own), { neighbours: [], fdb: [], routes: [] });
    assert.match(await sh(["ip", "-n", ns, "route"]), /10\.99\.0\.0\/16 via 198\.18\.0\.254/, "foreign route untouched");
  }),
);

test.run();
