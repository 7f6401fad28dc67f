import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendRegistry, noopLogger, type BackendDeps } from "@weft/backend";
import { FakeBackend } from "@weft/backend/testing";
import { parseCidr, parseIp } from "@weft/ipam";
import { FakeIpRoute, FakeIpSession } from "@weft/iproute/testing";
import { parseNetConf } from "@weft/netconf";
import { FakeNftables } from "nftables-js/testing";
import { LeaseManager, MemoryLeaseRegistry } from "@weft/subnet";
import { TrafficManager } from "@weft/traffic";
import { AgentConfigError, runAgent, type AgentDeps, type AgentStatus } from "./agent.ts";
import { createAgentMetrics } from "./agent_metrics.ts";

const test = suite("agent");
const CONFIG = '{"Network":"10.244.0.0/16","Backend":{"Type":"fake"}}';

interface World {
  dir: string;
  ip: FakeIpRoute;
  registry: MemoryLeaseRegistry;
  backend: FakeBackend;
  deps: AgentDeps;
  tables: Map<string, FakeNftables>;
}

async function world(config = CONFIG): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), "weftd-agent-"));
  const ip = new FakeIpRoute();
  await ip.link.add({ type: "bridge", name: "ext0", up: true });
  await ip.address.add({ dev: "ext0", address: "192.0.2.1/24" });
  await ip.route.add({ dst: "default", via: "192.0.2.254", dev: "ext0" });
  const registry = new MemoryLeaseRegistry();
  const backend = new FakeBackend({ publicIp: parseIp("192.0.2.1"), mtu: 1450 });
  const tables = new Map<string, FakeNftables>();
  const deps: AgentDeps = {
    logger: noopLogger,
    iproute: ip,
    readNetConf: async () => parseNetConf(config),
    leases: new LeaseManager(registry, { retryMs: 50 }),
    backends: new BackendRegistry({ fake: () => backend }),
    createTraffic: (conf, lease) =>
      new TrafficManager(
        (family, table) => {
          const t = new FakeNftables({ family, table });
          tables.set(`${family} ${table}`, t);
          return t;
        },
        { network: conf.network, podSubnet: lease.subnet, masquerade: true, resyncMs: 60_000 },
      ),
    metrics: createAgentMetrics({ processMetrics: false }),
  };
  return { dir, ip, registry, backend, deps, tables };
}

async function until(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const settings = (dir: string) => ({ subnetFile: join(dir, "subnet.env"), ipMasq: true, iface: [], ifaceRegex: [] });

test("runAgent() takes a lease, installs rules, writes subnet.env, becomes ready and follows peers", async () => {
  const w = await world();
  const controller = new AbortController();
  const status: AgentStatus = { ready: false };
  const running = runAgent(settings(w.dir), w.deps, { signal: controller.signal, status });
  try {
    await until(() => status.ready, "ready");
    const env = readFileSync(join(w.dir, "subnet.env"), "utf8");
    const subnet = status.lease!.subnet!;
    assert.match(env, "FLANNEL_NETWORK=10.244.0.0/16\n");
    assert.match(env, `FLANNEL_SUBNET=${subnet.address.replace(/\.0$/, ".1")}/24\n`);
    assert.match(env, "FLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
    assert.ok([...w.tables.keys()].includes("ip weft-masq"), "masquerade table installed");

    // Another node joins: the backend hears about it.
    const other = new LeaseManager(w.registry);
    const peer = await other.acquire(parseNetConf(CONFIG), { publicIp: parseIp("192.0.2.2"), backendType: "fake", backendData: null });
    const net = w.backend.networks[0]!;
    await until(() => net.peers.size === 1, "peer added");
    assert.ok(net.peers.has(`${peer.subnet!.address}/24`));
    assert.match(await w.deps.metrics.registry.metrics(), "weft_peers 1");
    await other.release(peer);
    await until(() => net.peers.size === 0, "peer removed");
  } finally {
    controller.abort();
    await running;
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("runAgent() logs a few peer changes one line each and a burst in lines of up to 100 peers", async () => {
  const w = await world();
  const lines: { msg: string; obj: Record<string, unknown> }[] = [];
  const record = (obj: object, msg?: string) => void lines.push({ msg: msg ?? "", obj: obj as Record<string, unknown> });
  w.deps.logger = { debug: () => {}, info: record, warn: record, error: record };
  const controller = new AbortController();
  const status: AgentStatus = { ready: false };
  const running = runAgent(settings(w.dir), w.deps, { signal: controller.signal, status });
  try {
    await until(() => status.ready, "ready");
    const net = w.backend.networks[0]!;
    const config = parseNetConf(CONFIG);
    const join = (from: number, n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => new LeaseManager(w.registry).acquire(config, { publicIp: parseIp(`192.0.2.${from + i}`), backendType: "fake", backendData: null })));
    await join(10, 3);
    await until(() => net.peers.size === 3, "3 peers");
    await until(() => lines.filter((l) => l.msg === "Peer added").length === 3, "3 single lines");
    // 150 leases written in one tick (as a MULTI/EXEC would): the watch delivers them together. Subnets .106–.255:
    // the 4 leases acquired so far were picked among the first 100 free ones (.1–.104).
    await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        w.registry.create({ subnet: parseCidr(`10.244.${106 + i}.0/24`), publicIp: parseIp(`192.0.2.${20 + i}`), backendType: "fake", backendData: null }),
      ),
    );
    await until(() => net.peers.size === 153, "153 peers");
    await until(() => lines.filter((l) => l.msg.startsWith("Peers added")).reduce((n, l) => n + Number(l.obj.count), 0) === 150, "150 peers logged in groups");
    const groups = lines.filter((l) => l.msg.startsWith("Peers added"));
    assert.ok(groups.length >= 2 && groups.every((g) => (g.obj.peers as string[]).length <= 100), `${groups.length} group lines of at most 100`);
    const named = groups.flatMap((g) => g.obj.peers as string[]);
    for (let i = 20; i < 170; i++) assert.ok(named.some((p) => p.endsWith(` via 192.0.2.${i}`)), `192.0.2.${i} is named`);
    assert.is(lines.filter((l) => l.msg === "Peer added").length, 3, "no single lines for the burst");
  } finally {
    controller.abort();
    await running;
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("runAgent() hands deps.ipSession to the backend it creates", async () => {
  const w = await world();
  const open = () => new FakeIpSession(w.ip);
  let seen: BackendDeps | undefined;
  w.deps.ipSession = open;
  w.deps.backends = new BackendRegistry({
    fake: (d) => {
      seen = d;
      return w.backend;
    },
  });
  const controller = new AbortController();
  const status: AgentStatus = { ready: false };
  const running = runAgent(settings(w.dir), w.deps, { signal: controller.signal, status });
  try {
    await until(() => status.ready, "ready");
    assert.is(seen?.ipSession, open);
    assert.is(seen?.iproute, w.ip);
  } finally {
    controller.abort();
    await running;
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("runAgent() reuses the subnet written in subnet.env by a previous run", async () => {
  const w = await world();
  writeFileSync(join(w.dir, "subnet.env"), "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.77.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
  const controller = new AbortController();
  const status: AgentStatus = { ready: false };
  const running = runAgent(settings(w.dir), w.deps, { signal: controller.signal, status });
  try {
    await until(() => status.ready, "ready");
    assert.is(status.lease?.subnet?.address, "10.244.77.0");
  } finally {
    controller.abort();
    await running;
    rmSync(w.dir, { recursive: true, force: true });
  }
});

test("runAgent() refuses an unknown backend before touching the kernel or writing subnet.env", async () => {
  const w = await world('{"Network":"10.244.0.0/16","Backend":{"Type":"nope"}}');
  const before = await w.ip.link.list();
  try {
    await runAgent(settings(w.dir), w.deps, { signal: new AbortController().signal });
    assert.unreachable("should fail");
  } catch (err) {
    assert.instance(err, AgentConfigError);
    assert.match((err as Error).message, "Error fetching backend: unknown backend type: nope");
  }
  assert.equal(await w.ip.link.list(), before);
  assert.not.ok(existsSync(join(w.dir, "subnet.env")));
  assert.is(w.tables.size, 0);
  assert.equal(await w.registry.list(), []);
  rmSync(w.dir, { recursive: true, force: true });
});

test("runAgent() passes a malformed net-conf.json error through unchanged", async () => {
  const w = await world("{ not json");
  await runAgent(settings(w.dir), w.deps, { signal: new AbortController().signal }).then(
    () => assert.unreachable(),
    (err: Error) => assert.match(err.message, /invalid character/),
  );
  assert.not.ok(existsSync(join(w.dir, "subnet.env")));
  rmSync(w.dir, { recursive: true, force: true });
});

test("runAgent() names --public-ip when it is not an IPv4 address, before touching anything", async () => {
  const w = await world();
  await runAgent({ ...settings(w.dir), publicIp: "fd00::1" }, w.deps, { signal: new AbortController().signal }).then(
    () => assert.unreachable(),
    (err: Error) => {
      assert.instance(err, AgentConfigError);
      assert.match(err.message, '--public-ip: "fd00::1" is not an IPv4 address');
    },
  );
  assert.is(w.backend.networks.length, 0);
  rmSync(w.dir, { recursive: true, force: true });
});

test.run();
