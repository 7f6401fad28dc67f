import { test } from "uvu";
import * as assert from "uvu/assert";
import { Batch, scriptOf } from "./batch.ts";

test("Batch renders flannel's per-peer vxlan commands exactly", () => {
  const b = new Batch()
    .replaceNeigh({ dev: "flannel.1", address: "10.244.2.0", lladdr: "0E:2A:00:00:00:02" })
    .replaceFdb({ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" })
    .replaceRoute({ dst: "10.244.2.0/24", via: "10.244.2.0", dev: "flannel.1", onlink: true });
  assert.is(b.toString(), [
    "# ip",
    "neigh replace 10.244.2.0 lladdr 0e:2a:00:00:00:02 dev flannel.1 nud permanent",
    "# bridge",
    "fdb replace 0e:2a:00:00:00:02 dev flannel.1 dst 198.18.0.2 self permanent",
    "# ip",
    "route replace 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
    "",
  ].join("\n"));
  assert.equal(b.segments().map((s) => s.tool), ["ip", "bridge", "ip"]);
});

test("addLink() renders vxlan with every option and veth with a peer in a namespace path", () => {
  const b = new Batch()
    .addLink({ type: "vxlan", name: "flannel.1", id: 1, local: "198.18.0.1", dev: "eth0", dstport: 8472, learning: false, gbp: true, mac: "0e:2a:00:00:00:01", mtu: 1450, up: true })
    .addLink({ type: "veth", name: "veth1234", mtu: 1450, peer: { name: "eth0", netns: "/proc/42/ns/net" }, master: "cni0", up: true })
    .addLink({ type: "tun", name: "flannel0", mtu: 1472 })
    .addLink({ type: "bridge", name: "cni0", stp: false });
  assert.equal(b.commands.map((c) => [c.index, c.args.join(" ")]), [
    [0, "link add flannel.1 mtu 1450 address 0e:2a:00:00:00:01 type vxlan id 1 local 198.18.0.1 dev eth0 dstport 8472 nolearning gbp"],
    [0, "link set dev flannel.1 up"],
    [1, "link add veth1234 mtu 1450 type veth peer name eth0 mtu 1450 netns /proc/42/ns/net"],
    [1, "link set dev veth1234 master cni0"],
    [1, "link set dev veth1234 up"],
    [2, "tuntap add dev flannel0 mode tun"],
    [2, "link set dev flannel0 mtu 1472"],
    [3, "link add cni0 type bridge stp_state 0"],
  ]);
});

test("setLink() orders rename, attributes, hairpin, state and netns", () => {
  const b = new Batch().setLink("veth0", { name: "veth1", mtu: 1400, master: "cni0", hairpin: true, promisc: true, up: true, netns: 4242 });
  assert.equal(b.commands.map((c) => c.args.join(" ")), [
    "link set dev veth0 name veth1",
    "link set dev veth1 mtu 1400 promisc on master cni0",
    "link set dev veth1 type bridge_slave hairpin on",
    "link set dev veth1 up",
    "link set dev veth1 netns 4242",
  ]);
  assert.equal(new Batch().setLink("veth0", { master: null }).commands.map((c) => c.args.join(" ")), ["link set dev veth0 nomaster"]);
});

test("route operations render family-neutral lines (v6 default becomes ::/0)", () => {
  const b = new Batch()
    .addRoute({ dst: "default", family: 6, via: "fd00::1", dev: "eth0" })
    .replaceRoute({ dst: "10.244.0.0/16", dev: "flannel0", scope: "link", table: 100, metric: 5, src: "10.244.1.0", proto: "static", mtu: 1400 })
    .deleteRoute({ dst: "10.0.0.5" })
    .addRoute({ dst: "10.1.0.0/16", type: "blackhole" });
  assert.equal(b.commands.map((c) => c.args.join(" ")), [
    "route add ::/0 via fd00::1 dev eth0",
    "route replace 10.244.0.0/16 dev flannel0 src 10.244.1.0 table 100 metric 5 proto static scope link mtu 1400",
    "route del 10.0.0.5/32",
    "route add blackhole 10.1.0.0/16",
  ]);
});

test("address and fdb operations render; a family flush becomes its own segment", () => {
  const b = new Batch()
    .addAddress({ dev: "flannel.1", address: "10.244.1.0/32" })
    .replaceAddress({ dev: "eth0", address: "fd00::5/64", noPrefixRoute: true })
    .flushAddresses("eth0", { family: 4 })
    .deleteAddress({ dev: "eth0", address: "10.0.0.5/24" })
    .appendFdb({ dev: "flannel.1", lladdr: "00:00:00:00:00:00", dst: "198.18.0.3" })
    .deleteFdb({ dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", dst: "198.18.0.2" });
  assert.equal(b.segments().map((s) => [s.tool, s.flags.join(" "), scriptOf(s)]), [
    ["ip", "", "addr add 10.244.1.0/32 dev flannel.1\naddr replace fd00::5/64 dev eth0 noprefixroute\n"],
    ["ip", "-4", "addr flush dev eth0\n"],
    ["ip", "", "addr del 10.0.0.5/24 dev eth0\n"],
    ["bridge", "", "fdb append 00:00:00:00:00:00 dev flannel.1 dst 198.18.0.3 self permanent\nfdb del 0e:2a:00:00:00:02 dev flannel.1 dst 198.18.0.2 self\n"],
  ]);
});

test("addAddress({ noDad }) renders nodad for IPv6 and rejects it for IPv4", () => {
  const b = new Batch().addAddress({ dev: "eth0", address: "fd00:10::5/64", noDad: true });
  assert.is(b.toString(), "# ip\naddr add fd00:10::5/64 dev eth0 nodad\n");
  assert.instance(new Batch().addAddress({ dev: "eth0", address: "10.0.0.5/24", noDad: true }).error, TypeError);
});

test("builder methods never throw: the first validation error sticks and later operations are ignored", () => {
  const b = new Batch()
    .addLink({ type: "bridge", name: "ok0" })
    .addRoute({ dst: "10.0.0.1/24", dev: "ok0" })
    .addLink({ type: "bridge", name: "ok1" });
  assert.instance(b.error, TypeError);
  assert.match(b.error?.message ?? "", /host bits/);
  assert.is(b.size, 1);
});

test("validation rejects bad names, addresses, MACs, numbers and injection attempts", () => {
  const bad: Array<(b: Batch) => Batch> = [
    (b) => b.addLink({ type: "bridge", name: "a".repeat(16) }),
    (b) => b.addLink({ type: "bridge", name: "x y" }),
    (b) => b.addLink({ type: "bridge", name: "x#y" }),
    (b) => b.addLink({ type: "bridge", name: ".." }),
    (b) => b.addLink({ type: "vxlan", name: "vx", id: 1 << 24 }),
    (b) => b.addLink({ type: "veth", name: "v0", peer: { name: "v1", netns: "../x" } }),
    (b) => b.addLink({ type: "veth", name: "v0", peer: { name: "v1", netns: "/x\nroute flush all" } }),
    (b) => b.addAddress({ dev: "eth0", address: "10.0.0.1" }),
    (b) => b.replaceNeigh({ dev: "eth0", address: "10.0.0.1", lladdr: "zz:00:00:00:00:00" }),
    (b) => b.replaceNeigh({ dev: "eth0", address: "10.0.0.1" }),
    (b) => b.replaceRoute({ dst: "10.0.0.0/8", via: "fd00::1" }),
    (b) => b.setLink("eth0", { mtu: 10 }),
    (b) => b.setLink("eth0", {}),
    (b) => b.replaceFdb({ dev: "eth0", lladdr: "0e:2a:00:00:00:02", dst: "1.2.3.4 self" }),
  ];
  for (const [i, f] of bad.entries()) assert.ok(f(new Batch()).error, `case ${i} should be rejected`);
});

test.run();
