// runAgent() hands a burst of lease events to the backend without waiting for each kernel pass, so a backend
// that merges pending changes (RouteNetwork) programs 1,000 new peers in a few batches, not 1,000 passes.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendRegistry, noopLogger } from "@weft/backend";
import { FakeBackend } from "@weft/backend/testing";
import { parseIp } from "@weft/ipam";
import { FakeIpRoute } from "@weft/iproute/testing";
import { parseNetConf } from "@weft/netconf";
import { FakeNftables } from "nftables-js/testing";
import { LeaseManager, MemoryLeaseRegistry, type LeaseEvent } from "@weft/subnet";
import { TrafficManager } from "@weft/traffic";
import { runAgent, type AgentDeps, type AgentStatus } from "./agent.ts";
import { createAgentMetrics } from "./agent_metrics.ts";

const test = suite("agent lease bursts");
const CONFIG = '{"Network":"10.244.0.0/16","Backend":{"Type":"fake"}}';

/** A backend whose networks take 20 ms per event (recorded synchronously, in order); counts calls in flight. */
class SlowBackend extends FakeBackend {
  inflight = 0;
  maxInflight = 0;
  order: string[] = [];
  override async registerNetwork(...args: Parameters<FakeBackend["registerNetwork"]>): ReturnType<FakeBackend["registerNetwork"]> {
    const net = await super.registerNetwork(...args);
    const handle = net.handleLeaseEvent.bind(net);
    net.handleLeaseEvent = async (event: LeaseEvent) => {
      this.inflight++;
      this.maxInflight = Math.max(this.maxInflight, this.inflight);
      if (event.type === "added" || event.type === "removed") this.order.push(`${event.type} ${event.lease.subnet?.address}`);
      try {
        await handle(event);
        await new Promise((r) => setTimeout(r, 20));
      } finally {
        this.inflight--;
      }
    };
    return net;
  }
}

test("runAgent() passes a burst of lease events to the backend without awaiting each one, in order", async () => {
  const dir = mkdtempSync(join(tmpdir(), "weftd-burst-"));
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "bridge", name: "ext0", up: true });
  await ip.address.add({ dev: "ext0", address: "192.0.2.1/24" });
  await ip.route.add({ dst: "default", via: "192.0.2.254", dev: "ext0" });
  const registry = new MemoryLeaseRegistry();
  const backend = new SlowBackend({ publicIp: parseIp("192.0.2.1"), mtu: 1450 });
  const deps: AgentDeps = {
    logger: noopLogger,
    iproute: ip,
    readNetConf: async () => parseNetConf(CONFIG),
    leases: new LeaseManager(registry, { retryMs: 50 }),
    backends: new BackendRegistry({ fake: () => backend }),
    createTraffic: (conf, lease) =>
      new TrafficManager((family, table) => new FakeNftables({ family, table }), { network: conf.network, podSubnet: lease.subnet, masquerade: true, resyncMs: 60_000 }),
    metrics: createAgentMetrics({ processMetrics: false }),
  };
  const controller = new AbortController();
  const status: AgentStatus = { ready: false };
  const running = runAgent({ subnetFile: join(dir, "subnet.env"), ipMasq: true, iface: [], ifaceRegex: [] }, deps, { signal: controller.signal, status });
  try {
    const deadline = Date.now() + 5000;
    while (!status.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(status.ready);
    const conf = parseNetConf(CONFIG);
    const others = Array.from({ length: 20 }, () => new LeaseManager(registry));
    const started = Date.now();
    const leases = await Promise.all(others.map((m, i) => m.acquire(conf, { publicIp: parseIp(`192.0.2.${10 + i}`), backendType: "fake", backendData: null })));
    const net = backend.networks[0]!;
    while (net.peers.size < 20 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 5));
    assert.is(net.peers.size, 20);
    // Awaiting each event would take ≥ 20 × 20 ms; handed over at once they overlap.
    assert.ok(backend.maxInflight > 1, `events overlapped (max in flight ${backend.maxInflight})`);
    // Removing one peer right after adding it keeps the order: added before removed.
    await others[0]!.release(leases[0]!);
    while (net.peers.size !== 19 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 5));
    assert.is(net.peers.size, 19);
    const first = `${leases[0]!.subnet!.address}`;
    assert.ok(backend.order.indexOf(`added ${first}`) < backend.order.indexOf(`removed ${first}`));
  } finally {
    controller.abort();
    await running;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
