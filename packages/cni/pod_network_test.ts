// Real-kernel tests of the pod network (reference/cni.md B.6 items 1-3, 6, 8, 12, restated for
// Weft). The "host" is a throwaway namespace; pods are namespaces too.
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { deleteNetns, kernelTest, sh } from "@weft/testutils";
import { SUBNET_ENV_DUAL, call, execFileExec, testNode, type TestNode } from "./_test_node.ts";
import { createPodNetwork, hostVethName, type PodNetwork } from "./pod_network.ts";
import { ALL_SPEC_VERSIONS } from "./testing.ts";
import type { CniResult } from "./types.ts";

const test = kernelTest(suite("pod_network"), { needs: ["root", "ip", "bridge"] });

const ipFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => /^[0-9a-f.:]+$/.test(f)) : []);
const linkJson = async (ns: string, dev: string) => JSON.parse(await sh(["ip", "-n", ns, "-j", "-d", "link", "show", "dev", dev]))[0];
/** Runs `fn` with a fresh test node and a pod network on it; both are closed and removed afterwards, also on failure. */
async function withPodNetwork(...args: [subnetEnv: string | null, fn: PodNetworkTest] | [fn: PodNetworkTest]): Promise<void> {
  const [subnetEnv, fn] = args.length === 2 ? args : [undefined, args[0]];
  const node = await testNode(subnetEnv);
  const net = createPodNetwork({ hostNetns: node.host });
  try {
    await fn(node, net);
  } finally {
    await net.close();
    await node.cleanup();
  }
}
type PodNetworkTest = (node: TestNode, net: PodNetwork) => Promise<void>;

const hostLinks = async (ns: string) => (JSON.parse(await sh(["ip", "-n", ns, "-j", "link", "show"])) as Array<{ ifname: string }>).map((l) => l.ifname).sort();

test("ADD returns bridge, host veth and pod interface, with addresses, routes and hairpin set up", () =>
  withPodNetwork(async (node, net) => {
    const pod = await node.pod();
    const r = await call(net, "ADD", { id: "c1", netns: pod }, node.conf({ isDefaultGateway: true }));
    assert.is(r.exitCode, 0, r.stdout);
    const res = JSON.parse(r.stdout) as CniResult;
    assert.is(res.interfaces!.length, 3);
    const [br, veth, eth] = res.interfaces!;
    assert.is(br!.name, "cni0");
    assert.ok(veth!.name.startsWith("veth"));
    assert.is(veth!.name, hostVethName("c1", "eth0"));
    assert.is(eth!.name, "eth0");
    assert.is(eth!.sandbox, `/run/netns/${pod}`);
    for (const i of res.interfaces!) assert.is(i.mac!.length, 17);
    assert.equal(res.ips, [{ interface: 2, address: "10.244.0.2/24", gateway: "10.244.0.1" }]);
    assert.equal(res.routes, [{ dst: "10.244.0.0/16" }, { dst: "0.0.0.0/0", gw: "10.244.0.1" }]);
    // host side: the bridge with the gateway and the result's MAC; only bridge + veth + lo
    const bridge = await linkJson(node.host, "cni0");
    assert.is(bridge.linkinfo.info_kind, "bridge");
    assert.is(bridge.address, br!.mac);
    assert.match(await sh(["ip", "-n", node.host, "-br", "addr", "show", "dev", "cni0"]), "10.244.0.1/24");
    assert.equal(await hostLinks(node.host), ["cni0", "lo", veth!.name].sort());
    const port = await linkJson(node.host, veth!.name);
    assert.is(port.master, "cni0");
    assert.is(port.linkinfo.info_slave_data.hairpin, true);
    assert.is(port.mtu, 1450);
    assert.not.equal(port.address, bridge.address);
    // pod side
    const podIf = await linkJson(pod, "eth0");
    assert.is(podIf.linkinfo.info_kind, "veth");
    assert.is(podIf.operstate, "UP");
    assert.is(podIf.mtu, 1450);
    assert.is(podIf.address, eth!.mac);
    assert.match(await sh(["ip", "-n", pod, "-br", "addr", "show", "dev", "eth0"]), "10.244.0.2/24");
    const routes = await sh(["ip", "-n", pod, "route"]);
    assert.match(routes, "default via 10.244.0.1 dev eth0");
    assert.match(routes, "10.244.0.0/16 via 10.244.0.1 dev eth0");
    // the address file in host-local's format, and the state file with ipMasq = !FLANNEL_IPMASQ
    assert.is(readFileSync(join(node.dataDir, "cbr0", "10.244.0.2"), "utf8"), "c1\r\neth0");
    const state = JSON.parse(readFileSync(join(node.stateDir, "cbr0", "c1_eth0.json"), "utf8"));
    assert.is(state.ipMasq, false);
    assert.is(state.hostVeth, veth!.name);
    assert.is(await sh(["ip", "netns", "exec", node.host, "cat", "/proc/sys/net/ipv4/ip_forward"]).then((s) => s.trim()), "1");
  }));

test("ADD gives one address per family for a dual-stack subnet.env", () =>
  withPodNetwork(SUBNET_ENV_DUAL, async (node, net) => {
    const pod = await node.pod();
    const res = JSON.parse((await call(net, "ADD", { id: "d1", netns: pod }, node.conf())).stdout) as CniResult;
    assert.equal(res.ips!.map((i) => i.address), ["10.244.0.2/24", "fd00:10::2/64"]);
    assert.equal(res.routes, [{ dst: "10.244.0.0/16" }, { dst: "fd00:10::/56" }]);
    assert.match(await sh(["ip", "-n", pod, "-6", "route"]), "fd00:10::/56 via fd00:10::1 dev eth0");
    assert.match(await sh(["ip", "-n", node.host, "-br", "addr", "show", "dev", "cni0"]), "fd00:10::1/64");
    assert.is(readFileSync(join(node.dataDir, "cbr0", "last_reserved_ip.1"), "utf8"), "fd00:10::2");
    await sh(["ip", "netns", "exec", pod, "ping", "-6", "-c1", "-W2", "fd00:10::1"]);
  }));

test("two pods ping each other and the gateway, and the host namespace reaches both", () =>
  withPodNetwork(async (node, net) => {
    const a = await node.pod();
    const b = await node.pod();
    assert.is((await call(net, "ADD", { id: "a", netns: a }, node.conf())).exitCode, 0);
    assert.is((await call(net, "ADD", { id: "b", netns: b }, node.conf())).exitCode, 0);
    await sh(["ip", "netns", "exec", a, "ping", "-c1", "-W2", "10.244.0.3"]);
    await sh(["ip", "netns", "exec", b, "ping", "-c1", "-W2", "10.244.0.2"]);
    await sh(["ip", "netns", "exec", a, "ping", "-c1", "-W2", "10.244.0.1"]);
    await sh(["ip", "netns", "exec", node.host, "ping", "-c1", "-W2", "10.244.0.2"]);
    await sh(["ip", "netns", "exec", node.host, "ping", "-c1", "-W2", "10.244.0.3"]);
  }));

test("the bridge is reused (same ifindex) and keeps its MAC as pods come and go", () =>
  withPodNetwork(async (node, net) => {
    const a = await node.pod();
    await call(net, "ADD", { id: "a", netns: a }, node.conf());
    const before = await linkJson(node.host, "cni0");
    const b = await node.pod();
    await call(net, "ADD", { id: "b", netns: b }, node.conf());
    await call(net, "DEL", { id: "a", netns: a }, node.conf());
    await call(net, "DEL", { id: "b", netns: b }, node.conf());
    await net.settled();
    // a second plugin instance (a restarted server) reuses the existing bridge
    const net2 = createPodNetwork({ hostNetns: node.host });
    const c = await node.pod();
    const res = JSON.parse((await call(net2, "ADD", { id: "c", netns: c }, node.conf())).stdout) as CniResult;
    const after = await linkJson(node.host, "cni0");
    assert.is(after.ifindex, before.ifindex);
    assert.is(after.address, before.address);
    assert.is(res.interfaces![0]!.mac, before.address);
    await net2.close();
  }));

test("ADD refuses a bridge name that exists as another kind of link, with code 7", () =>
  withPodNetwork(async (node, net) => {
    await sh(["ip", "-n", node.host, "link", "add", "cni0", "type", "veth", "peer", "name", "cni0p"]);
    const r = JSON.parse((await call(net, "ADD", { id: "a", netns: await node.pod() }, node.conf())).stdout);
    assert.equal([r.code, r.msg], [7, 'invalid network config: "bridge" names cni0, which exists and is not a bridge']);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), []);
  }));

test("DEL removes both veth ends and the address, and succeeds again, after the netns is gone, and for an unknown ID", async () => {
  const node = await testNode();
  const net = createPodNetwork({ hostNetns: node.host, asyncTeardown: false });
  try {
    const a = await node.pod();
    const res = JSON.parse((await call(net, "ADD", { id: "a", netns: a }, node.conf())).stdout) as CniResult;
    const del = await call(net, "DEL", { id: "a", netns: a }, node.conf());
    assert.equal([del.exitCode, del.stdout], [0, ""]);
    assert.equal(await hostLinks(node.host), ["cni0", "lo"]);
    assert.not.match(await sh(["ip", "-n", a, "link"]), "eth0");
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), []);
    assert.not.ok(existsSync(join(node.stateDir, "cbr0", "a_eth0.json")));
    assert.is((await call(net, "DEL", { id: "a", netns: a }, node.conf())).exitCode, 0, "DEL twice");
    void res;
    // DEL after the namespace was deleted still releases the address
    const b = await node.pod();
    await call(net, "ADD", { id: "b", netns: b }, node.conf());
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), ["10.244.0.3"]);
    await deleteNetns(b);
    assert.is((await call(net, "DEL", { id: "b", netns: b }, node.conf())).exitCode, 0);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), []);
    // empty CNI_NETNS and an ID that never existed
    assert.is((await call(net, "DEL", { id: "b" }, node.conf())).exitCode, 0);
    assert.is((await call(net, "DEL", { id: "never", netns: a }, node.conf())).exitCode, 0);
  } finally {
    await net.close();
    await node.cleanup();
  }
});

test("a failed ADD leaves no address reserved and no interface behind", async () => {
  const node = await testNode();
  let failPod = true;
  const net = createPodNetwork({
    hostNetns: node.host,
    exec: (file, args, input) => (failPod && args.includes("-batch") && !args.includes(node.host) ? Promise.reject(new Error("injected pod-side failure")) : execFileExec(file, args, input)),
  });
  try {
    const a = await node.pod();
    await call(net, "ADD", { id: "ok", netns: a, ifname: "eth9" }, node.conf()).then((r) => assert.is(r.exitCode, 1));
    const b = await node.pod();
    const filesBefore = ipFiles(join(node.dataDir, "cbr0"));
    const r = await call(net, "ADD", { id: "bad", netns: b }, node.conf());
    assert.is(r.exitCode, 1);
    assert.match(JSON.parse(r.stdout).msg, "injected pod-side failure");
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), filesBefore);
    assert.equal(await hostLinks(node.host), ["cni0", "lo"]);
    assert.not.match(await sh(["ip", "-n", b, "link"]), "eth0");
    // ADD into a namespace that does not exist: code 101, nothing reserved
    failPod = false;
    const ghost = await call(net, "ADD", { id: "ghost", netns: "/run/netns/weft-does-not-exist" }, node.conf());
    assert.is(JSON.parse(ghost.stdout).code, 101);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), filesBefore);
  } finally {
    await net.close();
    await node.cleanup();
  }
});

test("a pod-side failure inside the persistent ip session rolls back the veth and the address", () =>
  withPodNetwork(async (node, net) => {
    const a = await node.pod();
    const r = await call(net, "ADD", { id: "a", netns: a }, node.conf({ routes: [{ dst: "10.96.0.0/12", gw: "192.0.2.1" }] }));
    assert.is(r.exitCode, 1);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), []);
    await net.settled();
    assert.equal(await hostLinks(node.host), ["cni0", "lo"]);
    assert.not.match(await sh(["ip", "-n", a, "link"]), "eth0");
    assert.is((await call(net, "ADD", { id: "a", netns: a }, node.conf())).exitCode, 0, "the pair can be added afterwards");
  }));

test("a duplicate ADD is refused and leaves the first attachment intact; another ifname gets a second address", () =>
  withPodNetwork(async (node, net) => {
    const a = await node.pod();
    assert.is((await call(net, "ADD", { id: "a", netns: a }, node.conf())).exitCode, 0);
    const dup = await call(net, "ADD", { id: "a", netns: a }, node.conf());
    assert.is(dup.exitCode, 1);
    assert.is(JSON.parse(dup.stdout).code, 103);
    assert.match(JSON.parse(dup.stdout).msg, "duplicate allocation is not allowed");
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), ["10.244.0.2"]);
    assert.match(await sh(["ip", "-n", a, "-br", "addr", "show", "dev", "eth0"]), "10.244.0.2/24");
    const second = JSON.parse((await call(net, "ADD", { id: "a", netns: await node.pod(), ifname: "eth1" }, node.conf())).stdout) as CniResult;
    assert.is(second.ips![0]!.address, "10.244.0.3/24");
    // another container whose netns already has eth0: the kernel refuses, the address is released
    const clash = await call(net, "ADD", { id: "other", netns: a }, node.conf());
    assert.is(JSON.parse(clash.stdout).code, 103);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")).sort(), ["10.244.0.2", "10.244.0.3"]);
  }));

test("CHECK passes after ADD and fails when an address, the interface or the reservation is gone", () =>
  withPodNetwork(async (node, net) => {
    const a = await node.pod();
    const conf = node.conf({ isDefaultGateway: true });
    const res = JSON.parse((await call(net, "ADD", { id: "a", netns: a }, conf)).stdout);
    const ok = await call(net, "CHECK", { id: "a", netns: a }, { ...conf, prevResult: res });
    assert.equal([ok.exitCode, ok.stdout], [0, ""]);
    const noPrev = await call(net, "CHECK", { id: "a", netns: a }, conf);
    assert.match(JSON.parse(noPrev.stdout).msg, /prevResult/);
    await sh(["ip", "-n", a, "route", "del", "default"]);
    assert.match(JSON.parse((await call(net, "CHECK", { id: "a", netns: a }, { ...conf, prevResult: res })).stdout).msg, /route 0.0.0.0\/0/);
    await sh(["ip", "-n", a, "addr", "flush", "dev", "eth0", "scope", "global"]);
    assert.match(JSON.parse((await call(net, "CHECK", { id: "a", netns: a }, { ...conf, prevResult: res })).stdout).msg, /Failed to match addr 10.244.0.2\/24/);
    await call(net, "DEL", { id: "a", netns: a }, conf);
    assert.match(JSON.parse((await call(net, "CHECK", { id: "a", netns: a }, { ...conf, prevResult: res })).stdout).msg, /not reserved/);
  }));

test("STATUS answers 50 without subnet.env, ADD answers 11, and both work once it appears", () =>
  withPodNetwork(null, async (node, net) => {
    const conf = node.conf({ cniVersion: "1.1.0" });
    const st = await call(net, "STATUS", { id: "" }, conf);
    assert.equal([st.exitCode, JSON.parse(st.stdout).code], [1, 50]);
    const a = await node.pod();
    const add = JSON.parse((await call(net, "ADD", { id: "a", netns: a }, conf)).stdout);
    assert.is(add.code, 11);
    assert.match(add.msg, node.subnetFile);
    writeFileSync(node.subnetFile, "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.0.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n");
    assert.is((await call(net, "STATUS", { id: "" }, conf)).exitCode, 0);
    assert.is((await call(net, "ADD", { id: "a", netns: a }, conf)).exitCode, 0);
    assert.is(JSON.parse(readFileSync(join(node.stateDir, "cbr0", "a_eth0.json"), "utf8")).ipMasq, true);
  }));

test("GC releases addresses of attachments not in cni.dev/valid-attachments", () =>
  withPodNetwork(async (node, net) => {
    const conf = node.conf({ cniVersion: "1.1.0" });
    for (const id of ["a", "b", "c"]) assert.is((await call(net, "ADD", { id, netns: await node.pod() }, conf)).exitCode, 0);
    const r = await call(net, "GC", { id: "" }, { ...conf, "cni.dev/valid-attachments": [{ containerID: "b", ifname: "eth0" }] });
    assert.equal([r.exitCode, r.stdout], [0, ""]);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), ["10.244.0.3"]);
    assert.equal(readdirSync(join(node.stateDir, "cbr0")), ["b_eth0.json"]);
  }));

test("a state directory written by the reference host-local plugin is read, and host-local reads ours", async () => {
  const node = await testNode();
  const net = createPodNetwork({ hostNetns: node.host, asyncTeardown: false });
  const hl = (cmd: string, id: string) =>
    sh(["env", `CNI_COMMAND=${cmd}`, `CNI_CONTAINERID=${id}`, "CNI_NETNS=/dev/null", "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni", "/usr/lib/cni/host-local"], {
      input: JSON.stringify({ cniVersion: "1.0.0", name: "cbr0", ipam: { type: "host-local", ranges: [[{ subnet: "10.244.0.0/24" }]], dataDir: node.dataDir } }),
    });
  try {
    if (!existsSync("/usr/lib/cni/host-local")) return;
    // host-local reserves .2 for "ref"; we must skip it, continue round-robin and release it on DEL
    assert.match(await hl("ADD", "ref"), "10.244.0.2/24");
    const a = await node.pod();
    const res = JSON.parse((await call(net, "ADD", { id: "a", netns: a }, node.conf())).stdout) as CniResult;
    assert.is(res.ips![0]!.address, "10.244.0.3/24");
    assert.is((await call(net, "DEL", { id: "ref" }, node.conf())).exitCode, 0);
    assert.not.ok(existsSync(join(node.dataDir, "cbr0", "10.244.0.2")));
    // host-local continues after our last reservation and releases ours
    assert.match(await hl("ADD", "ref2"), "10.244.0.4/24");
    await hl("DEL", "a");
    assert.not.ok(existsSync(join(node.dataDir, "cbr0", "10.244.0.3")));
    // an old-format file (container ID only) is released by DEL too
    mkdirSync(join(node.dataDir, "cbr0"), { recursive: true });
    writeFileSync(join(node.dataDir, "cbr0", "10.244.0.9"), "old");
    await call(net, "DEL", { id: "old" }, node.conf());
    assert.not.ok(existsSync(join(node.dataDir, "cbr0", "10.244.0.9")));
  } finally {
    await net.close();
    await node.cleanup();
  }
});

const podAddrs = async (ns: string, family: "-4" | "-6") =>
  (JSON.parse(await sh(["ip", "-n", ns, "-j", family, "addr", "show", "dev", "eth0", "scope", "global"])) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>)
    // iproute2 prints `{}` for addresses the scope filter dropped
    .flatMap((l) => l.addr_info.filter((a) => a.local !== undefined).map((a) => `${a.local}/${a.prefixlen}`));
const errOf = (r: { exitCode: number; stdout: string }) => {
  assert.is(r.exitCode, 1, r.stdout);
  return JSON.parse(r.stdout) as { code: number; msg: string; details?: string };
};

test("ADD honours CNI_ARGS IP=: the pod has exactly that address, the result says so and host-local's file holds it", () =>
  withPodNetwork(async (node, net) => {
    const pod = await node.pod();
    const r = await call(net, "ADD", { id: "c1", netns: pod, args: "IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.244.0.50" }, node.conf());
    assert.is(r.exitCode, 0, r.stdout);
    const res = JSON.parse(r.stdout) as CniResult;
    assert.equal(res.ips, [{ interface: 2, address: "10.244.0.50/24", gateway: "10.244.0.1" }]);
    assert.equal(await podAddrs(pod, "-4"), ["10.244.0.50/24"]);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), ["10.244.0.50"]);
    assert.is(readFileSync(join(node.dataDir, "cbr0", "10.244.0.50"), "utf8"), "c1\r\neth0");
    assert.equal(JSON.parse(readFileSync(join(node.stateDir, "cbr0", "c1_eth0.json"), "utf8")).addresses, ["10.244.0.50/24"]);
    await sh(["ip", "netns", "exec", pod, "ping", "-c1", "-W2", "10.244.0.1"]);
    // DEL releases the requested address like any other
    assert.is((await call(net, "DEL", { id: "c1", netns: pod }, node.conf())).exitCode, 0);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), []);
  }));

test("ADD of an IP= held by another pod fails with host-local's text and leaves no veth and no reservation", () =>
  withPodNetwork(async (node, net) => {
    const a = await node.pod();
    const b = await node.pod();
    assert.is((await call(net, "ADD", { id: "a", netns: a, args: "IP=10.244.0.5" }, node.conf())).exitCode, 0);
    const e = errOf(await call(net, "ADD", { id: "b", netns: b, args: "IP=10.244.0.5" }, node.conf()));
    assert.equal([e.code, e.msg], [104, "requested IP address 10.244.0.5 is not available in range set 10.244.0.1-10.244.0.254"]);
    assert.match(e.details ?? "", "CNI_ARGS IP=10.244.0.5");
    await net.settled();
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), ["10.244.0.5"]);
    assert.is(readFileSync(join(node.dataDir, "cbr0", "10.244.0.5"), "utf8"), "a\r\neth0", "a keeps its address");
    assert.equal(await hostLinks(node.host), ["cni0", "lo", hostVethName("a", "eth0")].sort());
    assert.not.match(await sh(["ip", "-n", b, "link"]), "eth0");
    assert.not.ok(existsSync(join(node.stateDir, "cbr0", "b_eth0.json")));
    // b can be added without the request afterwards
    const ok = JSON.parse((await call(net, "ADD", { id: "b", netns: b }, node.conf())).stdout) as CniResult;
    assert.is(ok.ips![0]!.address, "10.244.0.6/24");
  }));

test("ADD refuses an IP outside the node subnet, the gateway or a wrong prefix before any kernel change", () =>
  withPodNetwork(async (node, net) => {
    const a = await node.pod();
    const out = errOf(await call(net, "ADD", { id: "a", netns: a, args: "IP=10.245.0.5" }, node.conf()));
    assert.equal([out.code, out.msg], [4, "CNI_ARGS IP=10.245.0.5: requested IP 10.245.0.5 is not in a range set of this node's pod subnet (range set 0: 10.244.0.1-10.244.0.254)"]);
    const v6 = errOf(await call(net, "ADD", { id: "a", netns: a }, node.conf({ runtimeConfig: { ips: ["fd00:10::5"] } })));
    assert.equal([v6.code, v6.msg.startsWith("runtimeConfig.ips[0]=fd00:10::5: requested IP fd00:10::5 is not in a range set")], [7, true], v6.msg);
    const gw = errOf(await call(net, "ADD", { id: "a", netns: a }, node.conf({ args: { cni: { ips: ["10.244.0.1"] } } })));
    assert.equal([gw.code, gw.msg], [7, "args.cni.ips[0]=10.244.0.1: requested ip 10.244.0.1 is subnet's gateway"]);
    const bad = errOf(await call(net, "ADD", { id: "a", netns: a, args: "IP=10.244.0.x" }, node.conf()));
    assert.equal([bad.code, bad.msg.startsWith("CNI_ARGS IP=10.244.0.x: not an IP address")], [4, true], bad.msg);
    // not even the bridge was created, nothing reserved, the pod untouched
    assert.equal(await hostLinks(node.host), ["lo"]);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), []);
    assert.not.match(await sh(["ip", "-n", a, "link"]), "eth0");
  }));

test("ADD honours runtimeConfig.ips and args.cni.ips with and without the subnet's prefix", () =>
  withPodNetwork(async (node, net) => {
    const [a, b, c] = [await node.pod(), await node.pod(), await node.pod()];
    const ra = JSON.parse((await call(net, "ADD", { id: "a", netns: a }, node.conf({ runtimeConfig: { ips: ["10.244.0.60/24"] } }))).stdout) as CniResult;
    assert.is(ra.ips![0]!.address, "10.244.0.60/24");
    assert.equal(await podAddrs(a, "-4"), ["10.244.0.60/24"]);
    const rb = JSON.parse((await call(net, "ADD", { id: "b", netns: b }, node.conf({ args: { cni: { ips: ["10.244.0.61"] } } }))).stdout) as CniResult;
    assert.is(rb.ips![0]!.address, "10.244.0.61/24");
    assert.equal(await podAddrs(b, "-4"), ["10.244.0.61/24"]);
    const wrong = errOf(await call(net, "ADD", { id: "c", netns: c }, node.conf({ runtimeConfig: { ips: ["10.244.0.62/16"] } })));
    assert.equal([wrong.code, wrong.msg], [7, "runtimeConfig.ips[0]=10.244.0.62/16: prefix length 16 does not match the node subnet 10.244.0.0/24"]);
    // two different addresses for the one IPv4 range set
    const two = errOf(await call(net, "ADD", { id: "c", netns: c, args: "IP=10.244.0.63" }, node.conf({ runtimeConfig: { ips: ["10.244.0.64"] } })));
    assert.equal([two.code, two.msg.startsWith("runtimeConfig.ips[0]=10.244.0.64: a second requested IP for range set 0")], [7, true], two.msg);
    // the same address from CNI_ARGS and runtimeConfig is one request
    const same = JSON.parse((await call(net, "ADD", { id: "c", netns: c, args: "IP=10.244.0.63" }, node.conf({ runtimeConfig: { ips: ["10.244.0.63/24"] } }))).stdout) as CniResult;
    assert.equal(same.ips!.map((i) => i.address), ["10.244.0.63/24"]);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")).sort(), ["10.244.0.60", "10.244.0.61", "10.244.0.63"]);
  }));

test("dual stack: an IPv6 request is honoured while IPv4 is automatic, and a taken one rolls back the IPv4 address", () =>
  withPodNetwork(SUBNET_ENV_DUAL, async (node, net) => {
    const [a, b] = [await node.pod(), await node.pod()];
    const ra = JSON.parse((await call(net, "ADD", { id: "a", netns: a, args: "IP=fd00:10::50" }, node.conf())).stdout) as CniResult;
    assert.equal(ra.ips!.map((i) => i.address), ["10.244.0.2/24", "fd00:10::50/64"]);
    assert.equal(await podAddrs(a, "-6"), ["fd00:10::50/64"]);
    assert.equal(await podAddrs(a, "-4"), ["10.244.0.2/24"]);
    await sh(["ip", "netns", "exec", a, "ping", "-6", "-c1", "-W2", "fd00:10::1"]);
    const e = errOf(await call(net, "ADD", { id: "b", netns: b, args: "IP=fd00:10:0:0::50" }, node.conf()));
    assert.equal([e.code, e.msg], [104, "requested IP address fd00:10::50 is not available in range set fd00:10::1-fd00:10::ffff:ffff:ffff:ffff"]);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")).sort(), ["10.244.0.2", "fd00:10::50"], "b's automatic IPv4 address was released");
    await net.settled();
    assert.equal(await hostLinks(node.host), ["cni0", "lo", hostVethName("a", "eth0")].sort());
    // both families requested at once
    const rb = JSON.parse((await call(net, "ADD", { id: "b", netns: b, args: "IP=10.244.0.70,fd00:10::70" }, node.conf())).stdout) as CniResult;
    assert.equal(rb.ips!.map((i) => i.address), ["10.244.0.70/24", "fd00:10::70/64"]);
    assert.equal(await podAddrs(b, "-6"), ["fd00:10::70/64"]);
  }));

test("ADD sets a requested MAC on the pod interface and reports it; runtimeConfig.mac wins over CNI_ARGS MAC", () =>
  withPodNetwork(async (node, net) => {
    const [a, b] = [await node.pod(), await node.pod()];
    const ra = JSON.parse((await call(net, "ADD", { id: "a", netns: a, args: "MAC=0A:58:0A:F4:00:99" }, node.conf())).stdout) as CniResult;
    assert.is(ra.interfaces![2]!.mac, "0a:58:0a:f4:00:99");
    assert.match(await sh(["ip", "-n", a, "link", "show", "eth0"]), "link/ether 0a:58:0a:f4:00:99 ");
    assert.is((await linkJson(a, "eth0")).address, ra.interfaces![2]!.mac);
    const rb = JSON.parse((await call(net, "ADD", { id: "b", netns: b, args: "MAC=0a:58:0a:f4:00:98" }, node.conf({ args: { cni: { mac: "0a:58:0a:f4:00:97" } }, runtimeConfig: { mac: "0a:58:0a:f4:00:96" } }))).stdout) as CniResult;
    assert.is(rb.interfaces![2]!.mac, "0a:58:0a:f4:00:96");
    assert.match(await sh(["ip", "-n", b, "link", "show", "eth0"]), "link/ether 0a:58:0a:f4:00:96 ");
    // the two pods reach each other with those MACs
    await sh(["ip", "netns", "exec", a, "ping", "-c1", "-W2", "10.244.0.3"]);
    assert.match(await sh(["ip", "-n", a, "neigh", "show", "10.244.0.3"]), "0a:58:0a:f4:00:96");
  }));

test("ADD refuses a bad MAC with an error naming the field and the value, before any kernel change", () =>
  withPodNetwork(async (node, net) => {
    const a = await node.pod();
    const multicast = errOf(await call(net, "ADD", { id: "a", netns: a, args: "MAC=01:00:5e:00:00:01" }, node.conf()));
    assert.equal([multicast.code, multicast.msg], [4, "CNI_ARGS MAC=01:00:5e:00:00:01: a multicast MAC address; the pod interface needs a unicast one"]);
    const junk = errOf(await call(net, "ADD", { id: "a", netns: a }, node.conf({ runtimeConfig: { mac: "0a:58:0a:f4:00" } })));
    assert.equal([junk.code, junk.msg], [7, "runtimeConfig.mac=0a:58:0a:f4:00: not a MAC address like 0a:58:0a:f4:00:02"]);
    assert.equal(await hostLinks(node.host), ["lo"]);
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), []);
    assert.not.match(await sh(["ip", "-n", a, "link"]), "eth0");
  }));

test("GC deletes the host veths of collected attachments, keeps valid ones and leaves links Weft did not create", () =>
  withPodNetwork(async (node, net) => {
    const conf = node.conf({ cniVersion: "1.1.0" });
    const pods: Record<string, string> = {};
    for (const id of ["a", "b", "c"]) {
      pods[id] = await node.pod();
      assert.is((await call(net, "ADD", { id, netns: pods[id] }, conf)).exitCode, 0);
    }
    // a stale state file naming a link that is not a port of the bridge and not a Weft name
    await sh(["ip", "-n", node.host, "link", "add", "vethforeign", "type", "veth", "peer", "name", "foreignpeer"]);
    writeFileSync(join(node.stateDir, "cbr0", "z_eth0.json"), JSON.stringify({ containerId: "z", ifname: "eth0", netns: "/run/netns/gone", hostVeth: "vethforeign", bridge: "cni0", addresses: [], mtu: 1450, ipMasq: false }));
    assert.equal(await hostLinks(node.host), ["cni0", "foreignpeer", "lo", "vethforeign", ...["a", "b", "c"].map((id) => hostVethName(id, "eth0"))].sort());
    const r = await call(net, "GC", { id: "" }, { ...conf, "cni.dev/valid-attachments": [{ containerID: "b", ifname: "eth0" }] });
    assert.equal([r.exitCode, r.stdout], [0, ""]);
    assert.equal(await hostLinks(node.host), ["cni0", "foreignpeer", "lo", "vethforeign", hostVethName("b", "eth0")].sort());
    assert.not.match(await sh(["ip", "-n", pods.a!, "link"]), "eth0");
    assert.not.match(await sh(["ip", "-n", pods.c!, "link"]), "eth0");
    assert.is((await linkJson(pods.b!, "eth0")).operstate, "UP");
    assert.equal(ipFiles(join(node.dataDir, "cbr0")), ["10.244.0.3"]);
    assert.equal(readdirSync(join(node.stateDir, "cbr0")), ["b_eth0.json"]);
    // a second GC finds nothing more to do
    assert.is((await call(net, "GC", { id: "" }, { ...conf, "cni.dev/valid-attachments": [{ containerID: "b", ifname: "eth0" }] })).exitCode, 0);
    assert.is((await linkJson(node.host, hostVethName("b", "eth0"))).master, "cni0");
  }));

for (const v of ALL_SPEC_VERSIONS) {
  test(`ADD/DEL work and the result has the config's shape for cniVersion ${v}`, async () => {
    const node = await testNode();
    const net = createPodNetwork({ hostNetns: node.host });
    try {
      const a = await node.pod();
      const r = await call(net, "ADD", { id: "v", netns: a }, node.conf({ cniVersion: v }));
      assert.is(r.exitCode, 0, r.stdout);
      const res = JSON.parse(r.stdout);
      assert.is(res.cniVersion, v);
      assert.is(res.ips[0].version, v.startsWith("0.") ? "4" : undefined);
      if (v !== "0.3.0" && v !== "0.3.1") {
        assert.is((await call(net, "CHECK", { id: "v", netns: a }, node.conf({ cniVersion: v, prevResult: res }))).exitCode, 0);
      }
      assert.is((await call(net, "DEL", { id: "v", netns: a }, node.conf({ cniVersion: v }))).exitCode, 0);
    } finally {
      await net.close();
      await node.cleanup();
    }
  });
}

test.run();
