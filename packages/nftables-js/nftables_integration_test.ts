import { suite } from "uvu";
import * as assert from "uvu/assert";
import { kernelTest, sh, uniqueName, withNetns } from "@weft/testutils";
import { createNftables } from "./nftables.ts";
import { isInvalid, isNotFound } from "./errors.ts";
import { FakeNftables } from "./fake_nftables.ts";
import { SCENARIOS, canonicalDump, expectFor, runScenario } from "./_conformance.ts";

const test = kernelTest(suite("nftables (kernel)"), { needs: ["root", "nft"] });

for (const scenario of SCENARIOS) {
  test(`createNftables() conforms in a namespace: ${scenario.name}`, () =>
    withNetns("nftjs", async (ns) => {
      const table = uniqueName("t-", { maxLength: 20 });
      const nft = createNftables({ family: "ip", table, netns: ns });
      const { problems } = await runScenario(nft, { ...scenario, expect: expectFor(scenario, "ip", table) });
      assert.equal(problems, []);
    }));
}

test("list() reads back what the fake holds after the same transaction (inet family)", () =>
  withNetns("nftjs", async (ns) => {
    const real = createNftables({ family: "inet", table: "weft-test", netns: ns });
    const fake = new FakeNftables({ family: "inet", table: "weft-test" });
    const build = (tx: ReturnType<typeof real.newTransaction>) =>
      tx
        .add({ kind: "table" })
        .add({ kind: "chain", name: "post", type: "nat", hook: "postrouting", priority: "srcnat", comment: "masq" })
        .add({ kind: "chain", name: "forwarding", type: "filter", hook: "forward", priority: 0, policy: "accept" })
        .add({ kind: "set", name: "aff", type: "ipv6_addr", flags: ["dynamic", "timeout"], timeoutSeconds: 10800 })
        .add({ kind: "rule", chain: "post", rule: "ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade fully-random" })
        .add({ kind: "rule", chain: "forwarding", rule: "ip6 saddr @aff accept" })
        .add({ kind: "rule", chain: "forwarding", rule: "ip saddr 10.244.0.0/16 accept", comment: "flannel forward" });
    await real.run(build(real.newTransaction()));
    await fake.run(build(fake.newTransaction()));
    assert.is(canonicalDump(await real.list()), canonicalDump(await fake.list()));
  }));

test("list() reads an ip6 table back the way the fake holds it", () =>
  withNetns("nftjs", async (ns) => {
    const real = createNftables({ family: "ip6", table: "weft6", netns: ns });
    const fake = new FakeNftables({ family: "ip6", table: "weft6" });
    const build = (tx: ReturnType<typeof real.newTransaction>) =>
      tx
        .add({ kind: "table", comment: "v6" })
        .add({ kind: "chain", name: "ep" })
        .add({ kind: "chain", name: "pre", type: "nat", hook: "prerouting", priority: -100 })
        .add({ kind: "map", name: "svc", type: "ipv6_addr . inet_proto . inet_service : verdict" })
        .add({ kind: "element", map: "svc", key: ["fd00:10:96::1", "tcp", "443"], value: ["goto ep"] })
        .add({ kind: "rule", chain: "ep", rule: "meta l4proto tcp dnat to [fd00:10:244::5]:8443" })
        .add({ kind: "rule", chain: "pre", rule: "ip6 daddr . meta l4proto . th dport vmap @svc" })
        .add({ kind: "rule", chain: "pre", rule: "ip6 saddr fd00::/8 accept" });
    await real.run(build(real.newTransaction()));
    await fake.run(build(fake.newTransaction()));
    assert.is(canonicalDump(await real.list()), canonicalDump(await fake.list()));
  }));

test("run() leaves the root namespace alone and list() of a missing table is notFound", () =>
  withNetns("nftjs", async (ns) => {
    const table = uniqueName("iso-", { maxLength: 20 });
    const nft = createNftables({ family: "ip", table, netns: ns });
    await nft.run(nft.newTransaction().add({ kind: "table" }));
    assert.not.match(await sh(["nft", "list", "tables"]), table);
    assert.match(await sh(["ip", "netns", "exec", ns, "nft", "list", "tables"]), table);
    const other = createNftables({ family: "ip", table: "absent", netns: ns });
    await other.list().then(
      () => assert.unreachable("list of a missing table succeeded"),
      (err) => assert.ok(isNotFound(err), String(err)),
    );
  }));

test("run() with dryRun checks without changing anything, and reports nft syntax errors as invalid", () =>
  withNetns("nftjs", async (ns) => {
    const nft = createNftables({ family: "ip", table: "dry", netns: `/var/run/netns/${ns}` });
    await nft.run(nft.newTransaction().add({ kind: "table" }).add({ kind: "chain", name: "c" }), { dryRun: true });
    await nft.list().then(
      () => assert.unreachable("dry run created the table"),
      (err) => assert.ok(isNotFound(err), String(err)),
    );
    const bad = nft.newTransaction().add({ kind: "table" }).add({ kind: "chain", name: "c" }).add({ kind: "rule", chain: "c", rule: "ip daddr frobnicate 1 accept" });
    const err = await nft.run(bad).then(() => undefined, (e: unknown) => e);
    assert.ok(isInvalid(err), String(err));
    assert.is((err as { operationIndex?: number }).operationIndex, 2);
    assert.match((err as Error).message, /add rule ip dry c ip daddr frobnicate 1 accept/);
  }));

test("check() reports that this kernel supports everything Weft needs, and changes nothing", () =>
  withNetns("nftjs", async (ns) => {
    const nft = createNftables({ family: "ip", table: "probe", netns: ns });
    const report = await nft.check();
    assert.ok(report.ok, JSON.stringify(report.features));
    assert.match(report.version ?? "", /^nftables v1\./);
    assert.is((await sh(["ip", "netns", "exec", ns, "nft", "list", "ruleset"])).trim(), "");
  }));

test("list() reads a 20,000-element verdict map and 2,000 chains back", () =>
  withNetns("nftjs", async (ns) => {
    const nft = createNftables({ family: "ip", table: "big", netns: ns });
    const tx = nft.newTransaction().add({ kind: "table" }).add({ kind: "map", name: "m", type: "ipv4_addr . inet_proto . inet_service : verdict" });
    for (let i = 0; i < 2000; i++) tx.add({ kind: "chain", name: `svc-${i}` });
    for (let i = 0; i < 20000; i++) tx.add({ kind: "element", map: "m", key: [`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, "tcp", "80"], value: [`goto svc-${i % 2000}`] });
    await nft.run(tx);
    const listing = await nft.list();
    assert.is(listing.chains.length, 2000);
    assert.is(listing.elements.length, 20000);
    const e = listing.elements.find((x) => x.key[0] === "10.0.1.2");
    assert.equal(e?.value, ["goto svc-258"]);
    const terse = await nft.list({ elements: false });
    assert.is(terse.elements.length, 0);
    assert.is(terse.maps.length, 1);
  }));

test.run();
