import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatCidr, parseCidr, parseIp } from "@weft/ipam";
import { parseNetConf } from "@weft/netconf";
import { LeaseManager } from "./lease_manager.ts";
import { MemoryLeaseRegistry } from "./memory_lease_registry.ts";
import { LeaseAcquireError, LeaseConflictError } from "./errors.ts";
import type { AssignedSubnets, Lease, LeaseRegistry, RegistryAllocateOptions } from "./types.ts";

const conf = parseNetConf(`{ "Network": "10.3.0.0/16" }`);
const _check: LeaseRegistry = new MemoryLeaseRegistry();
void _check;

/** A registry whose writes always lose the race. */
class AlwaysConflicting extends MemoryLeaseRegistry {
  creates = 0;
  override async create(lease: Lease): Promise<Lease> {
    this.creates++;
    throw new LeaseConflictError("x" + formatCidr(lease.subnet!));
  }
}

test("LeaseManager() rejects a renew margin not below the TTL with RangeError", () => {
  const r = new MemoryLeaseRegistry();
  assert.throws(() => new LeaseManager(r, { ttlMs: 1000, renewMarginMs: 1000 }), (e: unknown) => e instanceof RangeError);
  assert.throws(() => new LeaseManager(r, { maxAttempts: 0 }), (e: unknown) => e instanceof RangeError);
});

test("acquire() needs the public IP of each enabled family (TypeError)", async () => {
  const m = new LeaseManager(new MemoryLeaseRegistry());
  await m.acquire(conf, {}).then(() => assert.unreachable(), (e: Error) => assert.instance(e, TypeError));
  const dual = parseNetConf(`{ "Network": "10.3.0.0/16", "EnableIPv6": true, "IPv6Network": "fd00::/48" }`);
  await m.acquire(dual, { publicIp: parseIp("1.1.1.1") }).then(() => assert.unreachable(), (e: Error) => assert.instance(e, TypeError));
});

test("acquire() gives up with LeaseAcquireError after maxAttempts lost races", async () => {
  const r = new AlwaysConflicting();
  const m = new LeaseManager(r, { maxAttempts: 4, backoffMs: 1 });
  const err = await m.acquire(conf, { publicIp: parseIp("1.1.1.1") }).catch((e: unknown) => e);
  assert.instance(err, LeaseAcquireError);
  assert.is((err as LeaseAcquireError).attempts, 4);
  assert.instance((err as Error).cause, LeaseConflictError);
  assert.is(r.creates, 4);
});

test("acquire() picks among the first 100 free subnets, as flannel, when nobody races", async () => {
  const m = new LeaseManager(new MemoryLeaseRegistry(), { random: () => 0.999 });
  const l = await m.acquire(conf, { publicIp: parseIp("1.1.1.1") });
  assert.is(formatCidr(l.subnet!), "10.3.100.0/24");
});

test("acquire() publishes the subnet a registry assigns (kube podCIDR) without allocating", async () => {
  class Assigning extends MemoryLeaseRegistry {
    override async assignedSubnets(): Promise<AssignedSubnets | undefined> {
      return { subnet: parseCidr("10.3.77.0/24") };
    }
  }
  const r = new Assigning();
  const l = await new LeaseManager(r).acquire(conf, { publicIp: parseIp("1.1.1.1"), backendType: "host-gw" });
  assert.is(formatCidr(l.subnet!), "10.3.77.0/24");
  assert.is((await r.list())[0]?.backendType, "host-gw");
});

test("acquire() keeps a reservation (a lease without expiration) a reservation", async () => {
  const r = new MemoryLeaseRegistry();
  await r.create({ subnet: parseCidr("10.3.9.0/24"), publicIp: parseIp("1.1.1.1") });
  const l = await new LeaseManager(r).acquire(conf, { publicIp: parseIp("1.1.1.1"), backendType: "vxlan" });
  assert.is(formatCidr(l.subnet!), "10.3.9.0/24");
  assert.is(l.expiration, undefined);
  assert.is(l.backendType, "vxlan", "attributes are updated on reuse");
});

test("acquire() uses the registry's optional allocate() and falls back to list + create when it declines", async () => {
  class Allocating extends MemoryLeaseRegistry {
    calls: unknown[] = [];
    answer: Lease | undefined;
    creates = 0;
    async allocate(config: unknown, attrs: unknown, options?: RegistryAllocateOptions): Promise<Lease | undefined> {
      this.calls.push({ attrs, ttlMs: options?.ttlMs, previous: options?.previousSubnet && formatCidr(options.previousSubnet) });
      return this.answer;
    }
    override async create(lease: Lease, options?: { ttlMs?: number }): Promise<Lease> {
      this.creates++;
      return super.create(lease, options);
    }
  }
  const r = new Allocating();
  r.answer = { subnet: parseCidr("10.3.42.0/24"), publicIp: parseIp("1.1.1.1"), expiration: 1 };
  const m = new LeaseManager(r, { ttlMs: 5_000, renewMarginMs: 1_000 });
  const l = await m.acquire(conf, { publicIp: parseIp("1.1.1.1") }, { previousSubnet: parseCidr("10.3.9.0/24") });
  assert.is(formatCidr(l.subnet!), "10.3.42.0/24");
  assert.equal(r.calls, [{ attrs: { publicIp: parseIp("1.1.1.1") }, ttlMs: 5_000, previous: "10.3.9.0/24" }]);
  assert.is(r.creates, 0, "no generic write");
  r.answer = undefined; // declines: the generic path runs and honours the previous subnet
  const g = await m.acquire(conf, { publicIp: parseIp("1.1.1.2") }, { previousSubnet: parseCidr("10.3.9.0/24") });
  assert.is(formatCidr(g.subnet!), "10.3.9.0/24");
  assert.is(r.creates, 1);
});

test("keepAlive() retries a failed renewal after retryMs and reports the error", async () => {
  class Flaky extends MemoryLeaseRegistry {
    fail = 2;
    override async update(lease: Lease, options?: { ttlMs?: number }): Promise<Lease> {
      if (this.fail-- > 0) throw new Error("connection lost");
      return super.update(lease, options);
    }
  }
  const r = new Flaky();
  const m = new LeaseManager(r, { ttlMs: 400, renewMarginMs: 300, retryMs: 50 });
  const lease = await m.acquire(conf, { publicIp: parseIp("1.1.1.1") });
  const stop = new AbortController();
  const errors: unknown[] = [];
  const renewed: Lease[] = [];
  const alive = m.keepAlive(lease, { signal: stop.signal, onError: (e) => errors.push(e), onLease: (e) => renewed.push(e.lease) });
  await new Promise((res) => setTimeout(res, 450));
  stop.abort();
  await alive;
  assert.is(errors.length, 2);
  assert.ok(renewed.length >= 1);
  assert.is((await r.list()).length, 1, "the lease never expired");
});

test.run();
