import { suite } from "uvu";
import * as assert from "uvu/assert";
import { NftablesError, type Nftables, type Transaction } from "nftables-js";
import { FakeNftables } from "nftables-js/testing";
import { TrafficManager } from "./traffic_manager.ts";

const test = suite("TrafficManager");

function fakes() {
  const made = new Map<string, FakeNftables>();
  const factory = (family: "ip" | "ip6", table: string): Nftables => {
    const key = `${family} ${table}`;
    let f = made.get(key);
    if (!f) made.set(key, (f = new FakeNftables({ family, table })));
    return f;
  };
  return { made, factory, get: (key: string) => made.get(key) ?? assert.unreachable(`no ${key}`) as never };
}

async function rules(nft: Nftables, chain: string): Promise<string[]> {
  const l = await nft.list();
  return l.rules.filter((r) => r.chain === chain).map((r) => r.rule);
}

const V4 = { network: "10.42.0.0/16", podSubnet: "10.42.1.0/24" };

test("install() writes the masquerade and forward tables with the exact rules", async () => {
  const f = fakes();
  await new TrafficManager(f.factory, V4).install();
  assert.equal([...f.made.keys()].sort(), ["ip weft-forward", "ip weft-masq"]);
  assert.equal(await rules(f.get("ip weft-masq"), "postrouting"), [
    "meta mark & 0x00004000 == 0x00004000 return",
    "ip saddr 10.42.1.0/24 ip daddr 10.42.0.0/16 return",
    "ip saddr 10.42.0.0/16 ip daddr 10.42.1.0/24 return",
    "ip saddr != 10.42.0.0/16 ip daddr 10.42.1.0/24 return",
    "ip saddr 10.42.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random",
    "ip saddr != 10.42.0.0/16 ip daddr 10.42.0.0/16 masquerade fully-random",
  ]);
  assert.equal(await rules(f.get("ip weft-forward"), "forward"), ["ip saddr 10.42.0.0/16 accept", "ip daddr 10.42.0.0/16 accept"]);
  const chain = (await f.get("ip weft-masq").list()).chains[0];
  assert.is(chain?.type, "nat");
  assert.is(chain?.hook, "postrouting");
});

test("install() twice leaves exactly one copy of each rule", async () => {
  const f = fakes();
  const tm = new TrafficManager(f.factory, V4);
  await tm.install();
  await tm.install();
  assert.is((await rules(f.get("ip weft-masq"), "postrouting")).length, 6);
  assert.is((await rules(f.get("ip weft-forward"), "forward")).length, 2);
});

test("ensure() changes nothing when every rule is present", async () => {
  const f = fakes();
  const tm = new TrafficManager(f.factory, V4);
  await tm.install();
  const before = f.get("ip weft-masq").lastTransaction;
  assert.is(await tm.ensure(), false);
  assert.is(f.get("ip weft-masq").lastTransaction, before);
});

test("ensure() restores a rule someone deleted, in the right place", async () => {
  const f = fakes();
  const tm = new TrafficManager(f.factory, V4);
  await tm.install();
  const masq = f.get("ip weft-masq");
  const victim = (await masq.list()).rules[0];
  await masq.run(masq.newTransaction().delete({ kind: "rule", chain: "postrouting", rule: victim?.rule ?? "", handle: victim?.handle ?? -1 }));
  assert.is((await rules(masq, "postrouting")).length, 5);
  assert.is(await tm.ensure(), true);
  assert.is((await rules(masq, "postrouting"))[0], "meta mark & 0x00004000 == 0x00004000 return");
  assert.is((await rules(masq, "postrouting")).length, 6);
});

test("ensure() re-creates a deleted table and removes a foreign duplicate rule", async () => {
  const f = fakes();
  const tm = new TrafficManager(f.factory, V4);
  await tm.install();
  const fwd = f.get("ip weft-forward");
  await fwd.run(fwd.newTransaction().delete({ kind: "table" }));
  const masq = f.get("ip weft-masq");
  await masq.run(masq.newTransaction().add({ kind: "rule", chain: "postrouting", rule: "ip saddr 10.42.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random" }));
  assert.is(await tm.ensure(), true);
  assert.equal(await rules(fwd, "forward"), ["ip saddr 10.42.0.0/16 accept", "ip daddr 10.42.0.0/16 accept"]);
  assert.is((await rules(masq, "postrouting")).length, 6);
});

test("uninstall() deletes only our tables and tolerates their absence", async () => {
  const f = fakes();
  const tm = new TrafficManager(f.factory, V4);
  await tm.install();
  await tm.uninstall();
  assert.is(f.get("ip weft-masq").dump(), "");
  assert.is(f.get("ip weft-forward").dump(), "");
  await tm.uninstall();
});

test("IPv6 gets ip6 tables with ff00::/8 and masquerade:false leaves only forward rules", async () => {
  const f = fakes();
  await new TrafficManager(f.factory, { ...V4, ipv6Network: "fd00:10:244::/56", ipv6PodSubnet: "fd00:10:244:1::/64" }).install();
  assert.ok((await rules(f.get("ip6 weft-masq"), "postrouting")).includes("ip6 saddr fd00:10:244::/56 ip6 daddr != ff00::/8 masquerade fully-random"));
  const g = fakes();
  await new TrafficManager(g.factory, { network: "10.42.0.0/16", masquerade: false }).install();
  assert.equal([...g.made.keys()], ["ip weft-forward"]);
});

test("install() drops fully-random when the kernel rejects it and fullyRandom is auto", async () => {
  class NoFullyRandom extends FakeNftables {
    override async run(tx: Transaction): Promise<void> {
      if (tx.toString().includes("fully-random")) throw new NftablesError("invalid", "Error: syntax error, unexpected fully-random");
      return super.run(tx);
    }
  }
  const made: FakeNftables[] = [];
  const tm = new TrafficManager((family, table) => {
    const n = new NoFullyRandom({ family, table });
    made.push(n);
    return n;
  }, V4);
  await tm.install();
  const masq = made.find((m) => m.table === "weft-masq");
  assert.ok(masq);
  assert.is((await rules(masq, "postrouting"))[4], "ip saddr 10.42.0.0/16 ip daddr != 224.0.0.0/4 masquerade");
  const strict = new TrafficManager((family, table) => new NoFullyRandom({ family, table }), { ...V4, fullyRandom: true });
  await strict.install().then(() => assert.unreachable("should reject"), (err: Error) => assert.match(err.message, /fully-random/));
});

test("run() repairs removed rules within resyncMs and returns after abort", async () => {
  const f = fakes();
  const tm = new TrafficManager(f.factory, { ...V4, resyncMs: 10 });
  await tm.install();
  const stop = new AbortController();
  const running = tm.run(stop.signal);
  const masq = f.get("ip weft-masq");
  await masq.run(masq.newTransaction().flush({ kind: "chain", name: "postrouting" }));
  const deadline = Date.now() + 2000;
  while ((await rules(masq, "postrouting")).length !== 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  stop.abort();
  await running;
  assert.is((await rules(masq, "postrouting")).length, 6);
});

test("TrafficManager() accepts @weft/ipam Cidr values as well as text", async () => {
  const f = fakes();
  await new TrafficManager(f.factory, {
    network: { family: 4, address: "10.42.0.0", prefixLength: 16 },
    podSubnet: { family: 4, address: "10.42.1.0", prefixLength: 24 },
  }).install();
  assert.is((await rules(f.get("ip weft-masq"), "postrouting"))[1], "ip saddr 10.42.1.0/24 ip daddr 10.42.0.0/16 return");
});

test("TrafficManager() refuses options without a network or without the pod subnet", () => {
  const f = fakes();
  assert.throws(() => new TrafficManager(f.factory, {}), /network/);
  assert.throws(() => new TrafficManager(f.factory, { network: "10.42.0.0/16" }), /podSubnet/);
  assert.throws(() => new TrafficManager(f.factory, { ipv6Network: "fd00::/56" }), /ipv6PodSubnet/);
});

test.run();
