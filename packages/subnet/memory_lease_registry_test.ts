import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseCidr, parseIp } from "@weft/ipam";
import { MemoryLeaseRegistry } from "./memory_lease_registry.ts";
import type { LeaseRegistry, RegistryEvent } from "./types.ts";
import { leaseManagerConformance } from "./_lease_manager_conformance.ts";

const _check: LeaseRegistry = new MemoryLeaseRegistry(); // STYLE 15: conforms at compile time
void _check;

test("MemoryLeaseRegistry watch() starts with a snapshot and reports expiry as removed", async () => {
  const r = new MemoryLeaseRegistry();
  await r.create({ subnet: parseCidr("10.0.1.0/24"), publicIp: parseIp("1.1.1.1") });
  const stop = new AbortController();
  const events: RegistryEvent[] = [];
  const done = (async () => {
    for await (const e of r.watch({ signal: stop.signal })) events.push(e);
  })();
  await r.create({ subnet: parseCidr("10.0.2.0/24"), publicIp: parseIp("1.1.1.2") }, { ttlMs: 30 });
  await new Promise((res) => setTimeout(res, 100));
  stop.abort();
  await done;
  assert.equal(events.map((e) => e.type), ["snapshot", "added", "removed"]);
  assert.is(events[0]!.type === "snapshot" && events[0]!.leases.length, 1);
});

test("MemoryLeaseRegistry simulateRestart() drops leases and re-sends snapshots", async () => {
  const r = new MemoryLeaseRegistry();
  await r.create({ subnet: parseCidr("10.0.1.0/24"), publicIp: parseIp("1.1.1.1") });
  const stop = new AbortController();
  const it = r.watch({ signal: stop.signal })[Symbol.asyncIterator]();
  assert.is((await it.next()).value.type, "snapshot");
  r.simulateRestart();
  const e = (await it.next()).value as RegistryEvent;
  assert.equal(e, { type: "snapshot", leases: [] });
  assert.equal(await r.list(), []);
  stop.abort();
});

test.run();

const memory = { registry: new MemoryLeaseRegistry() };
leaseManagerConformance({
  name: "memory",
  async reset() {
    memory.registry = new MemoryLeaseRegistry();
  },
  open() {
    return memory.registry;
  },
  async restart({ keepData }) {
    memory.registry.simulateRestart({ keepData });
  },
  async close() {},
});
