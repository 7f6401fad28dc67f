import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryIpamStore, parseCidr } from "@weft/ipam";
import { PodIpam } from "./_pod_ipam.ts";
import { requestedIps } from "./_pod_requests.ts";

const reqs = (ip: string, config: Record<string, unknown> = {}) => requestedIps({ args: ip === "" ? [] : [["IP", ip]] }, config);
const dual = () => new PodIpam(new MemoryIpamStore(), [parseCidr("10.1.0.0/24"), parseCidr("fd00::/64")]);

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

test("PodIpam.plan() puts each requested IP in the range set of its family", () => {
  const plan = dual().plan(reqs("fd00::9,10.1.0.7"));
  assert.equal(plan.map((r) => r?.ip.address), ["10.1.0.7", "fd00::9"]);
  assert.equal(dual().plan(reqs("fd00::9")).map((r) => r?.ip.address), [undefined, "fd00::9"]);
  // the same address from two sources is one request
  assert.equal(dual().plan(reqs("10.1.0.7", { runtimeConfig: { ips: ["10.1.0.7/24"] } })).map((r) => r?.field), ["CNI_ARGS IP", undefined]);
});

test("PodIpam.plan() refuses an IP outside every range set, a wrong prefix, the gateway and two IPs for one range set", () => {
  const fails = (fn: () => unknown, code: number, text: string) => {
    try {
      fn();
      assert.unreachable("expected an error");
    } catch (err) {
      assert.equal([(err as { code: number }).code, (err as Error).message.includes(text)], [code, true], (err as Error).message);
    }
  };
  fails(() => dual().plan(reqs("10.9.9.9")), 4, "CNI_ARGS IP=10.9.9.9: requested IP 10.9.9.9 is not in a range set of this node's pod subnet (range set 0: 10.1.0.1-10.1.0.254; range set 1: fd00::1-fd00::ffff:ffff:ffff:ffff)");
  fails(() => dual().plan(reqs("10.1.0.255")), 4, "is not in a range set"); // the broadcast address
  fails(() => dual().plan(reqs("", { runtimeConfig: { ips: ["10.1.0.7/16"] } })), 7, "runtimeConfig.ips[0]=10.1.0.7/16: prefix length 16 does not match the node subnet 10.1.0.0/24");
  fails(() => dual().plan(reqs("10.1.0.1")), 4, "CNI_ARGS IP=10.1.0.1: requested ip 10.1.0.1 is subnet's gateway");
  fails(() => dual().plan(reqs("10.1.0.7", { args: { cni: { ips: ["10.1.0.8"] } } })), 7, "args.cni.ips[0]=10.1.0.8: a second requested IP for range set 0 (10.1.0.1-10.1.0.254), which already has 10.1.0.7 from CNI_ARGS IP");
});

test("PodIpam.allocate() reserves a requested IP and picks the other family automatically", async () => {
  const ipam = dual();
  const a = await ipam.allocate({ containerId: "c1", ifname: "eth0" }, ipam.plan(reqs("10.1.0.77")));
  assert.equal(a.map((x) => x.address), ["10.1.0.77/24", "fd00::2/64"]);
});

test("PodIpam.allocate() answers a taken requested IP with host-local's text (code 104) and releases what it reserved", async () => {
  const store = new MemoryIpamStore();
  const ipam = new PodIpam(store, [parseCidr("10.1.0.0/24"), parseCidr("fd00::/64")]);
  await ipam.allocate({ containerId: "a", ifname: "eth0" }, ipam.plan(reqs("fd00::5")));
  const err = await ipam.allocate({ containerId: "b", ifname: "eth0" }, ipam.plan(reqs("fd00::5"))).then(() => undefined, (e: unknown) => e as { code: number; message: string; details: string });
  assert.ok(err);
  assert.equal([err.code, err.message, err.details], [104, "requested IP address fd00::5 is not available in range set fd00::1-fd00::ffff:ffff:ffff:ffff", "requested by CNI_ARGS IP=fd00::5"]);
  assert.equal((await store.list()).map((r) => [r.containerId, r.ip.address]).sort(), [["a", "10.1.0.2"], ["a", "fd00::5"]], "b's automatic IPv4 address was released");
});

test("PodIpam.allocate() refuses a requested IP for an attachment that already holds one in that range set (code 103)", async () => {
  const store = new MemoryIpamStore();
  const ipam = new PodIpam(store, [parseCidr("10.1.0.0/24")]);
  await ipam.allocate({ containerId: "a", ifname: "eth0" });
  const err = await ipam.allocate({ containerId: "a", ifname: "eth0" }, ipam.plan(reqs("10.1.0.9"))).then(() => undefined, (e: unknown) => e as { code: number; message: string });
  assert.equal([err?.code, err?.message], [103, "10.1.0.2 has been allocated to a, duplicate allocation is not allowed"]);
  assert.equal((await store.list()).map((r) => r.ip.address), ["10.1.0.2"]);
});

test.run();
