import { test } from "uvu";
import * as assert from "uvu/assert";
import { Transaction } from "./transaction.ts";
import { isInvalid } from "./errors.ts";

const tx = () => new Transaction("ip", "weft-proxy");

test("toString() renders every object kind as knftables-style nft commands", () => {
  const t = tx()
    .add({ kind: "table", comment: "rules for weft" })
    .add({ kind: "chain", name: "services" })
    .add({ kind: "chain", name: "nat-prerouting", type: "nat", hook: "prerouting", priority: "dstnat" })
    .add({ kind: "chain", name: "filter-input", type: "filter", hook: "input", priority: "dstnat-10", policy: "accept", comment: "pre-dnat" })
    .add({ kind: "set", name: "cluster-ips", type: "ipv4_addr", comment: "Active ClusterIPs" })
    .add({ kind: "set", name: "affinity-x", type: "ipv4_addr", flags: ["dynamic", "timeout"], timeoutSeconds: 10800, size: 65535 })
    .add({ kind: "map", name: "service-ips", type: "ipv4_addr . inet_proto . inet_service : verdict" })
    .add({ kind: "rule", chain: "services", rule: "ip daddr . meta l4proto . th dport vmap @service-ips", comment: "svc" })
    .add({ kind: "element", set: "cluster-ips", key: ["172.30.0.41"] })
    .add({ kind: "element", map: "service-ips", key: ["172.30.0.41", "tcp", "80"], value: ["goto service-ULMVA6XW-ns1/svc1/tcp/p80"], comment: "ns1/svc1:p80" });
  assert.is(
    t.toString(),
    [
      'add table ip weft-proxy { comment "rules for weft" ; }',
      "add chain ip weft-proxy services",
      "add chain ip weft-proxy nat-prerouting { type nat hook prerouting priority -100 ; }",
      'add chain ip weft-proxy filter-input { type filter hook input priority -110 ; policy accept ; comment "pre-dnat" ; }',
      'add set ip weft-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }',
      "add set ip weft-proxy affinity-x { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; size 65535 ; }",
      "add map ip weft-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }",
      'add rule ip weft-proxy services ip daddr . meta l4proto . th dport vmap @service-ips comment "svc"',
      "add element ip weft-proxy cluster-ips { 172.30.0.41 }",
      'add element ip weft-proxy service-ips { 172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }',
      "",
    ].join("\n"),
  );
  assert.is(t.numOperations, 10);
  assert.is(t.error, undefined);
});

test("toString() renders every verb", () => {
  const t = tx()
    .create({ kind: "chain", name: "c" })
    .insert({ kind: "rule", chain: "c", rule: "accept" })
    .insert({ kind: "rule", chain: "c", rule: "drop", index: 2 })
    .add({ kind: "rule", chain: "c", rule: "counter", handle: 7 })
    .replace({ kind: "rule", chain: "c", rule: "reject", handle: 7, comment: "r" })
    .delete({ kind: "rule", chain: "c", handle: 8 })
    .flush({ kind: "chain", name: "c" })
    .flush({ kind: "set", name: "s" })
    .flush({ kind: "table" })
    .delete({ kind: "map", name: "m" })
    .delete({ kind: "element", map: "m", key: ["10.0.0.1"], value: ["drop"] })
    .create({ kind: "element", set: "s", key: ["10.0.0.1"], timeoutSeconds: 5 })
    .delete({ kind: "chain", name: "c" })
    .delete({ kind: "table" });
  assert.is(
    t.toString(),
    [
      "create chain ip weft-proxy c",
      "insert rule ip weft-proxy c accept",
      "insert rule ip weft-proxy c index 2 drop",
      "add rule ip weft-proxy c handle 7 counter",
      'replace rule ip weft-proxy c handle 7 reject comment "r"',
      "delete rule ip weft-proxy c handle 8",
      "flush chain ip weft-proxy c",
      "flush set ip weft-proxy s",
      "flush table ip weft-proxy",
      "delete map ip weft-proxy m",
      "delete element ip weft-proxy m { 10.0.0.1 }",
      "create element ip weft-proxy s { 10.0.0.1 timeout 5s }",
      "delete chain ip weft-proxy c",
      "delete table ip weft-proxy",
      "",
    ].join("\n"),
  );
});

test("toString() batches consecutive elements of one set into one command, one element per line", () => {
  const t = tx()
    .add({ kind: "element", map: "m", key: ["1.1.1.1"], value: ["accept"] })
    .add({ kind: "element", map: "m", key: ["1.1.1.2"], value: ["drop"] })
    .delete({ kind: "element", map: "m", key: ["1.1.1.3"] })
    .add({ kind: "element", set: "s", key: ["1.1.1.4"] });
  assert.is(
    t.toString(),
    "add element ip weft-proxy m {\n\t1.1.1.1 : accept,\n\t1.1.1.2 : drop\n}\ndelete element ip weft-proxy m { 1.1.1.3 }\nadd element ip weft-proxy s { 1.1.1.4 }\n",
  );
});

test("builder methods never throw: the first invalid operation sticks and later ones are ignored", () => {
  const t = tx()
    .add({ kind: "chain", name: "ok" })
    .add({ kind: "rule", chain: "ok", rule: "accept; delete table ip other" })
    .add({ kind: "chain", name: "bad name" })
    .add({ kind: "chain", name: "later" });
  assert.is(t.numOperations, 1);
  assert.ok(isInvalid(t.error));
  assert.match(t.error!.message, /Cannot add rule: rule text .* contains ";"/);
  assert.is(t.error!.operationIndex, 1);
  assert.is(t.toString(), `add chain ip weft-proxy ok\n# ERROR: ${t.error!.message}\n`);
});

test("Transaction() records an invalid family or table name as the error", () => {
  assert.match(new Transaction("ip", "bad;name").error?.message ?? "", /table name/);
  assert.match(new Transaction("bridge" as "ip", "t").error?.message ?? "", /family "bridge"/);
});

test("insert(), replace() and flush() refuse object kinds they cannot act on", () => {
  assert.match(tx().insert({ kind: "chain", name: "c" }).error?.message ?? "", /insert is not possible on a chain/);
  assert.match(tx().replace({ kind: "rule", chain: "c", rule: "accept" }).error?.message ?? "", /needs its handle/);
  assert.match(tx().flush({ kind: "element", set: "s", key: ["1.2.3.4"] }).error?.message ?? "", /flush is not possible on a element/);
  assert.match(tx().create({ kind: "rule", chain: "c", rule: "accept" }).error?.message ?? "", /create is not possible on a rule/);
});

test("add() keeps a copy, so changing the object afterwards cannot bypass validation", () => {
  const rule = { kind: "rule" as const, chain: "c", rule: "accept" };
  const key = ["10.0.0.1"];
  const t = tx().add(rule).add({ kind: "element", set: "s", key });
  (rule as { rule: string }).rule = "accept; flush ruleset";
  key[0] = "1.1.1.1 } ; flush ruleset";
  assert.is(t.toString(), "add rule ip weft-proxy c accept\nadd element ip weft-proxy s { 10.0.0.1 }\n");
});

test.run();
