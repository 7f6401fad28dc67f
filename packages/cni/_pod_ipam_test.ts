import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryIpamStore, parseCidr } from "@weft/ipam";
import { PodIpam } from "./_pod_ipam.ts";

test("PodIpam.allocate() gives one address per family with the gateway skipped", async () => {
  const ipam = new PodIpam(new MemoryIpamStore(), [parseCidr("10.1.0.0/24"), parseCidr("fd00::/64")]);
  const a = await ipam.allocate({ containerId: "c1", ifname: "eth0" });
  assert.equal(a.map((x) => [x.address, x.gateway.address]), [["10.1.0.2/24", "10.1.0.1"], ["fd00::2/64", "fd00::1"]]);
});

test("PodIpam.allocate() turns a duplicate into code 103 and exhaustion into code 102, releasing partial work", async () => {
  const store = new MemoryIpamStore();
  const ipam = new PodIpam(store, [parseCidr("10.1.0.0/24"), parseCidr("10.2.0.0/30")]);
  await ipam.allocate({ containerId: "a", ifname: "eth0" });
  await ipam.allocate({ containerId: "a", ifname: "eth0" }).then(() => assert.unreachable(), (e: { code: number }) => assert.is(e.code, 103));
  // 10.2.0.0/30 has a single usable address besides the gateway: the second pod exhausts it
  await ipam.allocate({ containerId: "b", ifname: "eth0" }).then(() => assert.unreachable(), (e: { code: number; message: string }) => {
    assert.is(e.code, 102);
    assert.match(e.message, "no IP addresses available in range set");
  });
  assert.equal((await store.list()).map((r) => r.containerId), ["a", "a"], "b's IPv4 address was released again");
});

test.run();
