import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import { AsyncQueue } from "./_async.ts";
import { SharedRegistryWatch } from "./_shared_watch.ts";
import type { Lease, RegistryEvent, RegistryWatchOptions } from "./types.ts";

const test = suite("SharedRegistryWatch");

const lease = (i: number): Lease => ({ subnet: parseCidr(`10.5.${i}.0/24`), publicIp: parseIp(`192.0.2.${i}`), backendType: "vxlan" });
const subnets = (e: RegistryEvent | undefined) =>
  e?.type === "snapshot" ? e.leases.map((l) => l.subnet?.address).sort() : e ? [e.type, e.lease.subnet?.address] : undefined;

/** A registry whose watch streams are driven by the test; counts how many were opened and are still open. */
class ScriptedRegistry {
  readonly streams: AsyncQueue<RegistryEvent>[] = [];
  open = 0;
  watch(options: RegistryWatchOptions): AsyncIterable<RegistryEvent> {
    let ended = false;
    const end = () => void (!ended && ((ended = true), this.open--));
    const q = new AsyncQueue<RegistryEvent>(end);
    this.streams.push(q);
    this.open++;
    options.signal.addEventListener("abort", () => (q.close(), end()), { once: true });
    return q;
  }
  get last(): AsyncQueue<RegistryEvent> {
    return this.streams.at(-1)!;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test("two consumers share one registry watch and both see every event in order", async () => {
  const reg = new ScriptedRegistry();
  const shared = new SharedRegistryWatch(reg);
  const stop = new AbortController();
  const a = shared.watch({ signal: stop.signal })[Symbol.asyncIterator]();
  const b = shared.watch({ signal: stop.signal })[Symbol.asyncIterator]();
  assert.is(reg.streams.length, 1);
  reg.last.push({ type: "snapshot", leases: [lease(1)] });
  reg.last.push({ type: "added", lease: lease(2) });
  reg.last.push({ type: "removed", lease: lease(1) });
  for (const it of [a, b]) {
    assert.equal(subnets((await it.next()).value), ["10.5.1.0"]);
    assert.equal(subnets((await it.next()).value), ["added", "10.5.2.0"]);
    assert.equal(subnets((await it.next()).value), ["removed", "10.5.1.0"]);
  }
  stop.abort();
  assert.is((await a.next()).done, true);
  assert.is(reg.streams.length, 1);
});

test("a consumer joining later starts with a snapshot of the current state", async () => {
  const reg = new ScriptedRegistry();
  const shared = new SharedRegistryWatch(reg);
  const stop = new AbortController();
  const a = shared.watch({ signal: stop.signal })[Symbol.asyncIterator]();
  reg.last.push({ type: "snapshot", leases: [lease(1), lease(2)] });
  reg.last.push({ type: "added", lease: lease(3) });
  reg.last.push({ type: "removed", lease: lease(1) });
  await a.next(), await a.next(), await a.next();
  await tick();
  const late = shared.watch({ signal: stop.signal })[Symbol.asyncIterator]();
  assert.equal(subnets((await late.next()).value), ["10.5.2.0", "10.5.3.0"]);
  reg.last.push({ type: "added", lease: lease(4) });
  assert.equal(subnets((await late.next()).value), ["added", "10.5.4.0"]);
  assert.equal(subnets((await a.next()).value), ["added", "10.5.4.0"]);
  assert.is(reg.streams.length, 1);
  stop.abort();
});

test("the registry watch stops with the last consumer and a new consumer starts a fresh one", async () => {
  const reg = new ScriptedRegistry();
  const shared = new SharedRegistryWatch(reg);
  const s1 = new AbortController();
  const s2 = new AbortController();
  shared.watch({ signal: s1.signal });
  const b = shared.watch({ signal: s2.signal })[Symbol.asyncIterator]();
  reg.last.push({ type: "snapshot", leases: [lease(1)] });
  await b.next();
  s1.abort();
  assert.is(shared.consumers, 1);
  assert.is(reg.open, 1, "still watching for the remaining consumer");
  await b.return!();
  await tick();
  assert.is(shared.consumers, 0);
  assert.is(reg.open, 0, "the registry stream was ended");
  const s3 = new AbortController();
  const c = shared.watch({ signal: s3.signal })[Symbol.asyncIterator]();
  assert.is(reg.streams.length, 2, "a fresh registry watch");
  reg.last.push({ type: "snapshot", leases: [] });
  assert.equal(subnets((await c.next()).value), [], "no stale state from the first watch");
  s3.abort();
});

test("a failing registry watch fails every consumer; the next consumer starts again", async () => {
  const reg = new ScriptedRegistry();
  const shared = new SharedRegistryWatch(reg);
  const stop = new AbortController();
  const a = shared.watch({ signal: stop.signal })[Symbol.asyncIterator]();
  const b = shared.watch({ signal: stop.signal })[Symbol.asyncIterator]();
  reg.last.fail(new Error("store gone"));
  for (const it of [a, b]) await it.next().then(() => assert.unreachable("should fail"), (e: Error) => assert.is(e.message, "store gone"));
  const c = shared.watch({ signal: stop.signal })[Symbol.asyncIterator]();
  assert.is(reg.streams.length, 2);
  reg.last.push({ type: "snapshot", leases: [lease(7)] });
  assert.equal(subnets((await c.next()).value), ["10.5.7.0"]);
  stop.abort();
});

test("an already aborted signal gives an ended stream and opens no registry watch", async () => {
  const reg = new ScriptedRegistry();
  const shared = new SharedRegistryWatch(reg);
  const it = shared.watch({ signal: AbortSignal.abort() })[Symbol.asyncIterator]();
  assert.is((await it.next()).done, true);
  assert.is(reg.streams.length, 0);
});

test.run();
