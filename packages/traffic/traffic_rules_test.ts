import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatTable, forwardTable, masqueradeTable } from "./traffic_rules.ts";

test("masqueradeTable() renders flannel's six rules in order for IPv4", () => {
  const t = masqueradeTable("10.42.0.0/16", "10.42.1.0/24");
  assert.is(t.family, "ip");
  assert.is(t.name, "weft-masq");
  assert.equal(t.chains[0]?.rules, [
    "meta mark & 0x00004000 == 0x00004000 return",
    "ip saddr 10.42.1.0/24 ip daddr 10.42.0.0/16 return",
    "ip saddr 10.42.0.0/16 ip daddr 10.42.1.0/24 return",
    "ip saddr != 10.42.0.0/16 ip daddr 10.42.1.0/24 return",
    "ip saddr 10.42.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random",
    "ip saddr != 10.42.0.0/16 ip daddr 10.42.0.0/16 masquerade fully-random",
  ]);
  assert.is(t.chains[0]?.hook, "postrouting");
  assert.is(t.chains[0]?.priority, "srcnat");
});

test("masqueradeTable() uses ip6 matches and ff00::/8 for IPv6 and can drop fully-random", () => {
  const t = masqueradeTable("fd00:10:244::/56", "fd00:10:244:1::/64", { fullyRandom: false, tableName: "x" });
  assert.is(t.family, "ip6");
  assert.is(t.name, "x");
  assert.is(t.chains[0]?.rules[4], "ip6 saddr fd00:10:244::/56 ip6 daddr != ff00::/8 masquerade");
});

test("masqueradeTable() refuses a pod subnet of the other family", () => {
  assert.throws(() => masqueradeTable("10.42.0.0/16", "fd00::/64"), (e: unknown) => e instanceof TypeError);
  assert.throws(() => masqueradeTable("10.42.0.0", "10.42.1.0/24"), (e: unknown) => e instanceof SyntaxError);
});

test("forwardTable() accepts traffic from and to the network", () => {
  const t = forwardTable("10.42.0.0/16");
  assert.equal(t.chains[0]?.rules, ["ip saddr 10.42.0.0/16 accept", "ip daddr 10.42.0.0/16 accept"]);
  assert.is(t.chains[0]?.type, "filter");
  assert.is(t.name, "weft-forward");
});

test("formatTable() prints an nft -f script", () => {
  assert.is(
    formatTable(forwardTable("10.42.0.0/16")),
    [
      "table ip weft-forward {",
      '\tcomment "weft forwarding of cluster traffic"',
      "\tchain forward {",
      '\t\tcomment "accept forwarded cluster traffic"',
      "\t\ttype filter hook forward priority filter; policy accept;",
      "\t\tip saddr 10.42.0.0/16 accept",
      "\t\tip daddr 10.42.0.0/16 accept",
      "\t}",
      "}",
      "",
    ].join("\n"),
  );
});

test.run();
