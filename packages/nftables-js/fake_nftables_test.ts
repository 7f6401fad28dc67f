import { test } from "uvu";
import * as assert from "uvu/assert";
import { FakeNftables } from "./fake_nftables.ts";
import { isBusy, isInvalid, isNotFound } from "./errors.ts";
import type { Nftables } from "./nftables.ts";

const fake = () => new FakeNftables({ family: "ip", table: "weft" });

const SEED = `add table ip weft { comment "seed" ; }
add chain ip weft services
add chain ip weft svc-a
add chain ip weft nat-prerouting { type nat hook prerouting priority -100 ; policy accept ; }
add map ip weft service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP traffic" ; }
add set ip weft aff { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
add rule ip weft services ip daddr . meta l4proto . th dport vmap @service-ips comment "dispatch"
add rule ip weft svc-a meta l4proto tcp dnat to 10.244.1.5:8080
add rule ip weft nat-prerouting jump services
add element ip weft service-ips { 172.30.0.1 . tcp . 80 comment "ns/a:http" : goto svc-a }
add element ip weft aff { 10.0.0.7 timeout 60s }
`;

test("dump() prints the state as add lines and load() reads the same text back", () => {
  const nft = fake();
  nft.load(SEED);
  assert.is(nft.dump(), SEED);
});

test("dump() is empty without a table", () => {
  assert.is(fake().dump(), "");
});

test("load() accepts a transaction's toString(), including multi-line element blocks", async () => {
  const a = fake();
  const tx = a
    .newTransaction()
    .add({ kind: "table" })
    .add({ kind: "chain", name: "c" })
    .add({ kind: "set", name: "s", type: "ipv4_addr" })
    .add({ kind: "element", set: "s", key: ["10.0.0.1"] })
    .add({ kind: "element", set: "s", key: ["10.0.0.2"] });
  await a.run(tx);
  const b = fake();
  b.load(tx.toString());
  assert.is(b.dump(), a.dump());
});

test("load() rejects lines it cannot read with a SyntaxError naming the line", () => {
  assert.throws(() => fake().load("add table ip weft\nflush ruleset\n"), (e: Error) => e instanceof SyntaxError && /line 2/.test(e.message));
  assert.throws(() => fake().load("add table ip other\n"), (e: Error) => e instanceof SyntaxError && /not table ip weft/.test(e.message));
  assert.throws(() => fake().load("add chain ip weft c\n"), (e: Error) => isNotFound(e));
});

test("run() commits nothing when an operation fails, and records lastTransaction", async () => {
  const nft = fake();
  nft.load(SEED);
  const tx = nft.newTransaction().add({ kind: "chain", name: "new" }).delete({ kind: "chain", name: "svc-a" });
  const err = await nft.run(tx).then(() => undefined, (e: unknown) => e);
  assert.ok(isBusy(err), String(err));
  assert.match(String((err as Error).message), /operation 1 \(delete chain ip weft svc-a\): chain svc-a is not empty/);
  assert.is(nft.lastTransaction, tx);
  assert.is(nft.dump(), SEED);
});

test("run() with dryRun validates against the state without changing it", async () => {
  const nft = fake();
  nft.load(SEED);
  await nft.run(nft.newTransaction().delete({ kind: "table" }), { dryRun: true });
  assert.is(nft.dump(), SEED);
  const err = await nft.run(nft.newTransaction().add({ kind: "rule", chain: "nochain", rule: "accept" }), { dryRun: true }).then(() => undefined, (e: unknown) => e);
  assert.ok(isNotFound(err));
});

test("run() rejects element keys and values that do not fit the map's type", async () => {
  const nft = fake();
  nft.load(SEED);
  const short = await nft.run(nft.newTransaction().add({ kind: "element", map: "service-ips", key: ["1.2.3.4"], value: ["drop"] })).then(() => undefined, (e: unknown) => e);
  assert.ok(isInvalid(short), String(short));
  const asSet = await nft.run(nft.newTransaction().add({ kind: "element", set: "service-ips", key: ["1.2.3.4", "tcp", "1"] })).then(() => undefined, (e: unknown) => e);
  assert.ok(isInvalid(asSet), String(asSet));
});

test("list() reports base chains with the kernel's default policy and sets with their timeout flag", async () => {
  const nft = fake();
  await nft.run(
    nft
      .newTransaction()
      .add({ kind: "table" })
      .add({ kind: "chain", name: "in", type: "filter", hook: "input", priority: "filter" })
      .add({ kind: "set", name: "s", type: "ipv4_addr", timeoutSeconds: 30 }),
  );
  const l = await nft.list();
  assert.equal(l.chains, [{ kind: "chain", name: "in", type: "filter", hook: "input", priority: 0, policy: "accept", handle: 1 }]);
  assert.equal(l.sets, [{ kind: "set", name: "s", type: "ipv4_addr", timeoutSeconds: 30, flags: ["timeout"], handle: 2 }]);
});

test("FakeNftables satisfies the Nftables interface and check() reports support", async () => {
  const nft: Nftables = fake();
  assert.ok((await nft.check()).ok);
  await nft.list().then(
    () => assert.unreachable("listed a missing table"),
    (e) => assert.ok(isNotFound(e)),
  );
});

test.run();
