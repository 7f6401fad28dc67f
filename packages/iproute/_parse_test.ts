import { test } from "uvu";
import * as assert from "uvu/assert";
import { batchFailureReports, parseJsonArray, parseMonitorLine, toAddresses, toFdb, toLink, toNeighbour, toRoute } from "./_parse.ts";

// Samples recorded from iproute2 6.1 on this project's kernel, so parsing is tested without root.
const VXLAN = `[{"ifindex":5,"ifname":"flannel.1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"operstate":"UNKNOWN","address":"0e:2a:00:00:00:01","linkinfo":{"info_kind":"vxlan","info_data":{"id":1,"local":"198.18.0.1","link":"v2","port_range":{"low":0,"high":0},"port":8472,"learning":false,"ttl":0,"df":"unset","ageing":300,"udp_csum":true,"gbp":true}}}]`;
const PORT = `[{"ifindex":3,"link":"v2","ifname":"v1","flags":["BROADCAST","MULTICAST","PROMISC"],"mtu":1500,"master":"br0","operstate":"DOWN","address":"72:2d:53:af:4f:25","linkinfo":{"info_kind":"veth","info_slave_kind":"bridge","info_slave_data":{"hairpin":true}}}]`;

test("toLink() reads kind, vxlan options, master, hairpin, peer and flags", () => {
  const [vx] = parseJsonArray(VXLAN, "link").map(toLink);
  assert.equal(vx, {
    index: 5, name: "flannel.1", mtu: 1450, up: true, operState: "UNKNOWN", flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"], promisc: false,
    kind: "vxlan", mac: "0e:2a:00:00:00:01", vxlan: { id: 1, dstport: 8472, learning: false, gbp: true, local: "198.18.0.1", dev: "v2" },
  });
  const [port] = parseJsonArray(PORT, "link").map(toLink);
  assert.is(port?.master, "br0");
  assert.is(port?.hairpin, true);
  assert.is(port?.link, "v2");
  assert.is(port?.promisc, true);
  assert.is(port?.up, false);
});

test("toAddresses(), toRoute(), toNeighbour() and toFdb() fill what iproute2 leaves out", () => {
  const addr = `[{"ifindex":2,"ifname":"v2","addr_info":[{"family":"inet","local":"198.18.0.1","prefixlen":24,"scope":"global"},{"family":"inet6","local":"fd00::1","prefixlen":64,"scope":"global"}]}]`;
  assert.equal(parseJsonArray(addr, "address").flatMap(toAddresses).map((a) => [a.dev, a.family, a.cidr]), [["v2", 4, "198.18.0.1/24"], ["v2", 6, "fd00::1/64"]]);
  const routes = parseJsonArray(`[{"dst":"10.244.2.0/24","gateway":"10.244.2.0","dev":"flannel.1","flags":["onlink"]},{"dst":"10.244.1.0","dev":"v2","protocol":"kernel","scope":"link","prefsrc":"10.244.1.0","flags":[]},{"dst":"default","gateway":"10.0.0.1","dev":"eth0","table":"100","flags":[]}]`, "route").map((j) => toRoute(j, 4));
  assert.equal(routes[0], { family: 4, dst: "10.244.2.0/24", onlink: true, scope: "global", table: "main", protocol: "boot", type: "unicast", via: "10.244.2.0", dev: "flannel.1" });
  assert.is(routes[1]?.dst, "10.244.1.0/32");
  assert.is(routes[1]?.src, "10.244.1.0");
  assert.is(routes[2]?.table, "100");
  const n = toNeighbour({ dst: "10.244.2.0", lladdr: "0e:2a:00:00:00:02", state: ["PERMANENT"] }, "flannel.1");
  assert.equal(n, { family: 4, dev: "flannel.1", address: "10.244.2.0", state: ["PERMANENT"], lladdr: "0e:2a:00:00:00:02" });
  const f = toFdb({ mac: "0e:2a:00:00:00:02", dst: "198.18.0.2", flags: ["self"], state: "permanent" }, "flannel.1");
  assert.equal(f, { dev: "flannel.1", lladdr: "0e:2a:00:00:00:02", flags: ["self"], state: "permanent", dst: "198.18.0.2" });
  assert.equal(parseJsonArray("", "x"), []);
  assert.throws(() => parseJsonArray("{", "route"), (e: unknown) => e instanceof SyntaxError);
});

test("parseMonitorLine() reads `ip -o monitor label` lines", () => {
  assert.equal(parseMonitorLine("[LINK]Deleted 2: a.b: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 82:28:a5:85:01:73 brd ff:ff:ff:ff:ff:ff"), {
    type: "link", action: "deleted", index: 2, name: "a.b", up: false,
    raw: "[LINK]Deleted 2: a.b: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 82:28:a5:85:01:73 brd ff:ff:ff:ff:ff:ff",
  });
  const up = parseMonitorLine("[LINK]3: v1@v2: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN");
  assert.equal(up && up.type === "link" ? [up.action, up.name, up.up] : [], ["new", "v1", true]);
  const addr = parseMonitorLine("[ADDR]3: v1    inet 10.1.0.1/24 scope global v1\\       valid_lft forever preferred_lft forever");
  assert.equal(addr && addr.type === "address" ? [addr.dev, addr.cidr] : [], ["v1", "10.1.0.1/24"]);
  const route = parseMonitorLine("[ROUTE]Deleted local 10.1.0.1 dev v1 table local proto kernel scope host src 10.1.0.1 ");
  assert.equal(route && route.type === "route" ? [route.action, route.dst, route.dev, route.table] : [], ["deleted", "10.1.0.1", "v1", "local"]);
  const neigh = parseMonitorLine("[NEIGH]10.1.0.9 dev v1 lladdr 02:00:00:00:00:01 PERMANENT ");
  assert.equal(neigh && neigh.type === "neigh" ? [neigh.address, neigh.dev, neigh.lladdr] : [], ["10.1.0.9", "v1", "02:00:00:00:00:01"]);
  assert.is(parseMonitorLine("something else"), undefined);
});

test("batchFailureReports() pairs each `Command failed` with the text before it", () => {
  const stderr = 'Cannot find device "x0"\nCommand failed -:2\nRTNETLINK answers: File exists\nsecond line\nCommand failed /tmp/f:7\ntrailing text\n';
  assert.equal(batchFailureReports(stderr), [
    { file: "-", line: 2, text: 'Cannot find device "x0"' },
    { file: "/tmp/f", line: 7, text: "RTNETLINK answers: File exists\nsecond line" },
  ]);
  assert.equal(batchFailureReports(""), []);
});

test.run();
