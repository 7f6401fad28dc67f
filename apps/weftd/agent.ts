// The node agent's start-up sequence and its long-running loops. Everything it touches comes in through
// AgentDeps, so tests drive it with fakes and main.ts wires the real kernel, Redis or Kubernetes.
//
// Order (flannel's main.go, with Weft's differences noted):
//   1. net-conf.json (file, or <prefix>/config in Redis, retried every second while absent);
//   2. backend type checked against the registry BEFORE anything touches the kernel (flannel creates
//      devices first and fails later); a kube registry's podCIDR is validated here too;
//   3. the external interface (--iface / --iface-regex / default route);
//   4. backend.registerNetwork: devices, then the lease (previous subnet from subnet.env reused);
//   5. masquerade/forward rules, subnet.env (atomic), the CNI server, then ready;
//   6. loops until SIGTERM: lease keep-alive (renewal, re-publication if the lease vanishes: flannel
//      exits instead), the lease watch into the backend, the backend's repair loop, the rules' repair loop.
// On SIGTERM the data plane stays as it is: pods keep talking while weftd restarts.
import { lookupExternalInterface, type BackendRegistry, type ExternalInterface, type Logger, type Network } from "@weft/backend";
import { formatCidr, tryParseIp, type Cidr, type IpAddr } from "@weft/ipam";
import type { IpRoute, IpSession } from "@weft/iproute";
import { readSubnetEnv, writeSubnetEnv, type NetConf } from "@weft/netconf";
import type { Lease, LeaseEvent, LeaseManager } from "@weft/subnet";
import type { TrafficManager } from "@weft/traffic";
import type { AgentMetrics } from "./agent_metrics.ts";

/** What the agent needs from the outside world. */
export interface AgentDeps {
  logger: Logger;
  /** Kernel access in the node's namespace. */
  iproute: IpRoute;
  /** Opens a long-lived `ip -batch -` session in the node's namespace (the backend writes small batches through it). @default none */
  ipSession?: () => IpSession;
  /** Reads net-conf.json (from the file or from Redis). */
  readNetConf(signal: AbortSignal): Promise<NetConf>;
  /** Leases over the chosen registry. */
  leases: LeaseManager;
  backends: BackendRegistry;
  /** Builds the masquerade/forward rule manager once the lease subnet is known. */
  createTraffic(config: NetConf, lease: Lease): TrafficManager;
  /** Starts the CNI server (when enabled); resolves with a stop function. */
  startCni?(): Promise<() => Promise<void>>;
  /** Called once the agent is ready (kube: sets the node's NetworkUnavailable=False condition). */
  onReady?(): Promise<void>;
  metrics: AgentMetrics;
}

/** The agent's settings (a subset of the command line). */
export interface AgentSettings {
  subnetFile: string;
  ipMasq: boolean;
  iface: readonly string[];
  ifaceRegex: readonly string[];
  publicIp?: string;
  publicIpv6?: string;
  /** How often the backend re-checks its kernel entries (ms); @default backend's own */
  resyncMs?: number;
}

/** State the agent exposes to /readyz and to tests. */
export interface AgentStatus {
  ready: boolean;
  lease?: Lease;
  network?: Network;
  externalInterface?: ExternalInterface;
}

/** Thrown for a configuration the agent cannot run with (bad net-conf.json, unknown backend, podCIDR outside the network). */
export class AgentConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AgentConfigError";
  }
}

function publicAddress<K extends string>(flag: string, text: string | undefined, family: 4 | 6, key: K): { [P in K]?: IpAddr } {
  if (text === undefined) return {};
  const ip = tryParseIp(text);
  if (!ip || ip.family !== family) throw new AgentConfigError(`${flag}: "${text}" is not an IPv${family} address`);
  return { [key]: ip } as { [P in K]?: IpAddr };
}

const cidrOrNone = (c: Cidr | undefined) => (c ? formatCidr(c) : "None");

async function previousSubnets(path: string, logger: Logger): Promise<{ subnet?: Cidr; ipv6Subnet?: Cidr }> {
  try {
    const env = await readSubnetEnv(path);
    return { ...(env.subnet ? { subnet: env.subnet } : {}), ...(env.ipv6Subnet ? { ipv6Subnet: env.ipv6Subnet } : {}) };
  } catch (err) {
    logger.debug({ path, err: (err as Error).message }, "no previous subnet.env");
    return {};
  }
}

/**
 * Runs the agent until `signal` aborts. Start-up failures reject (the caller exits with the message);
 * once ready, failures of single peers or rule repairs are logged and counted, never fatal.
 */
export async function runAgent(settings: AgentSettings, deps: AgentDeps, options: { signal: AbortSignal; status?: AgentStatus }): Promise<void> {
  const { logger, metrics, signal } = { ...deps, signal: options.signal };
  const status = options.status ?? { ready: false };

  const config = await deps.readNetConf(signal);
  logger.info({ backendType: config.backendType, network: cidrOrNone(config.network), ipv6Network: cidrOrNone(config.ipv6Network) }, `Found network config - Backend type: ${config.backendType}`);
  if (!deps.backends.has(config.backendType)) {
    throw new AgentConfigError(`Error fetching backend: unknown backend type: ${config.backendType} (known: ${deps.backends.types().join(", ")})`);
  }
  try {
    // Registries that assign subnets (kube) validate them against the network before any device exists.
    await deps.leases.registry.assignedSubnets(config, { signal });
  } catch (err) {
    throw new AgentConfigError((err as Error).message, { cause: err });
  }

  let reason = "";
  const ext = await lookupExternalInterface(deps.iproute, {
    iface: settings.iface,
    ifaceRegex: settings.ifaceRegex,
    ...publicAddress("--public-ip", settings.publicIp, 4, "publicIp"),
    ...publicAddress("--public-ipv6", settings.publicIpv6, 6, "publicIpv6"),
    ipv4: config.enableIPv4,
    ipv6: config.enableIPv6,
    onChosen: (r) => (reason = r),
  });
  status.externalInterface = ext;
  logger.info(
    { iface: ext.name, address: ext.address?.address, publicIp: ext.publicIp?.address, reason },
    `Using interface with name ${ext.name} and address ${ext.address?.address ?? ext.addressV6?.address}`,
  );

  const previous = await previousSubnets(settings.subnetFile, logger);
  logger.info({ previousSubnet: cidrOrNone(previous.subnet) }, `Created subnet manager: ${deps.leases.registry.name} with previous subnet ${cidrOrNone(previous.subnet)}`);
  const owner = ext.publicIp ? { publicIp: ext.publicIp } : ext.publicIpv6 ? { publicIpv6: ext.publicIpv6 } : {};
  const mine = (await deps.leases.registry.list({ signal, ownedBy: owner })).find(
    (l) => (ext.publicIp && l.publicIp?.address === ext.publicIp.address) || (!ext.publicIp && ext.publicIpv6 && l.publicIpv6?.address === ext.publicIpv6.address),
  );

  const backend = deps.backends.create(config.backendType, {
    iproute: deps.iproute,
    ...(deps.ipSession ? { ipSession: deps.ipSession } : {}),
    externalInterface: ext,
    logger,
    ...(settings.resyncMs ? { resyncMs: settings.resyncMs } : {}),
  });
  const network = await backend.registerNetwork(config, {
    signal,
    ...(mine?.backendData !== undefined ? { previousBackendData: mine.backendData } : {}),
    ...(mine?.backendV6Data !== undefined ? { previousBackendV6Data: mine.backendV6Data } : {}),
    acquireLease: async (attrs, o) => {
      const lease = await deps.leases.acquire(config, attrs, {
        ...(previous.subnet ? { previousSubnet: previous.subnet } : {}),
        ...(previous.ipv6Subnet ? { previousIpv6Subnet: previous.ipv6Subnet } : {}),
        signal: o?.signal ?? signal,
      });
      const reused = previous.subnet && lease.subnet && formatCidr(previous.subnet) === formatCidr(lease.subnet);
      logger.info({ subnet: cidrOrNone(lease.subnet), ipv6Subnet: cidrOrNone(lease.ipv6Subnet), reused: Boolean(reused) }, reused ? "Lease reused (previous subnet)" : "Lease acquired");
      return lease;
    },
  });
  status.network = network;
  status.lease = network.lease;
  const lease = network.lease;
  metrics.leaseInfo.set({ subnet: cidrOrNone(lease.subnet), backend: network.backendType }, 1);
  metrics.leaseExpiration.set(lease.expiration ? lease.expiration / 1000 : 0);

  const traffic = deps.createTraffic(config, lease);
  await traffic.install();
  logger.info({ tables: traffic.tables().map((t) => `${t.family} ${t.name}`), masquerade: settings.ipMasq }, "Installed masquerade and forward rules");

  await writeSubnetEnv(settings.subnetFile, {
    network: config.enableIPv4 ? config.network : undefined,
    subnet: lease.subnet,
    ipv6Network: config.enableIPv6 ? config.ipv6Network : undefined,
    ipv6Subnet: lease.ipv6Subnet,
    mtu: network.mtu,
    ipMasq: settings.ipMasq,
  });
  logger.info({ path: settings.subnetFile }, `Wrote subnet file to ${settings.subnetFile}`);

  const stopCni = deps.startCni ? await deps.startCni() : undefined;
  status.ready = true;
  metrics.ready.set(1);
  await deps.onReady?.().catch((err: Error) => logger.error({ err: err.message }, "Could not report readiness to the lease store"));
  logger.info({ subnet: cidrOrNone(lease.subnet), mtu: network.mtu }, "weftd is ready");

  let current = lease;
  const loops = [
    deps.leases.keepAlive(lease, {
      signal,
      onLease: (e) => {
        current = e.lease;
        status.lease = e.lease;
        metrics.leaseExpiration.set(e.lease.expiration ? e.lease.expiration / 1000 : 0);
        if (e.type === "republished") logger.warn({ subnet: cidrOrNone(e.lease.subnet) }, "Own lease had vanished from the store; published it again with the same subnet");
        else logger.info({ expiration: e.lease.expiration ? new Date(e.lease.expiration).toISOString() : "never" }, "Lease renewed");
      },
      onError: (err) => logger.error({ err: (err as Error).message }, "Lease renewal failed; will retry"),
    }),
    followLeases(deps, network, { signal, ownLease: () => current }),
    network.run(signal),
    traffic.run(signal),
  ];
  const results = await Promise.allSettled(loops);
  await stopCni?.();
  for (const r of results) if (r.status === "rejected" && !signal.aborted) throw r.reason;
  logger.info({}, "Exiting cleanly; the data plane is left in place");
}

/** Feeds the lease watch into the backend, keeping the peer count and reconcile timings. */
async function followLeases(deps: AgentDeps, network: Network, options: { signal: AbortSignal; ownLease: () => Lease }): Promise<void> {
  const { logger, metrics } = deps;
  const peers = new Map<string, Lease>();
  const keyOf = (l: Lease) => `${cidrOrNone(l.subnet)}|${cidrOrNone(l.ipv6Subnet)}`;
  const pending = new Set<Promise<void>>();
  let last: Promise<void> | undefined;
  const countPeers = () => metrics.peers.set([...peers.values()].filter((l) => (l.backendType ?? "").toLowerCase() === network.backendType).length);
  // Each event is logged, but on a later macrotask than the kernel pass it starts (scheduled after it): for a burst
  // of 1,000 leases the 1,000 log lines are then written while the kernel works through the writes, not before.
  let unlogged: LeaseEvent[] = [];
  const logEvents = () => {
    const events = unlogged;
    unlogged = [];
    describeAll(events, logger);
  };
  for await (const event of deps.leases.watch({ signal: options.signal, ownLease: options.ownLease })) {
    if (event.type === "own-removed") {
      describe(event, logger);
      continue; // keepAlive re-publishes it
    }
    if (event.type === "snapshot") {
      peers.clear();
      for (const l of event.leases) peers.set(keyOf(l), l);
    } else if (event.type === "added") peers.set(keyOf(event.lease), event.lease);
    else peers.delete(keyOf(event.lease));
    // Not awaited: the network merges events that arrive while a kernel pass runs into the next pass (one batch),
    // so a burst of 1,000 new leases costs a few batches instead of 1,000 sequential ones. Order is kept: the
    // network records each event synchronously when called.
    const result = network.handleLeaseEvent(event);
    if (unlogged.push(event) === 1) setImmediate(logEvents);
    // Events that share a pass share its promise: one timer and one report per pass, not per event.
    if (result === last) continue;
    last = result;
    const end = metrics.reconcileDuration.startTimer({ trigger: event.type });
    const applied = result.then(
      () => {
        for (const [peer, err] of network.peerErrors()) logger.warn({ peer, err: err.message }, "Peer not programmed");
      },
      (err: Error) => {
        metrics.kernelErrors.inc({ subsystem: "backend" });
        logger.error({ err: err.message, event: event.type }, "Applying a lease event failed; the periodic check will retry");
      },
    );
    pending.add(applied);
    // Counted once a burst has settled: per event it would be O(peers²) for 1,000 new leases at once.
    void applied.finally(() => (end(), pending.delete(applied), pending.size === 0 && countPeers()));
  }
  logEvents();
  await Promise.allSettled(pending);
}

/** Peers listed per line when a burst is logged in groups (a line stays a few KB). */
const PEERS_PER_LINE = 100;
/** Up to this many added (or removed) peers in a row get a line each; more are logged in groups. */
const SINGLE_LINES_MAX = 10;

/**
 * Logs lease events: one line each, except runs of more than {@linkcode SINGLE_LINES_MAX} added or removed peers
 * (1,000 nodes joining at once), which are logged as "Peers added"/"Peers removed" lines of up to
 * {@linkcode PEERS_PER_LINE} peers each (`subnet via publicIp`): every peer is still named, in a hundredth of the
 * lines and of the time.
 */
function describeAll(events: readonly LeaseEvent[], logger: Logger): void {
  for (let i = 0; i < events.length; ) {
    const type = events[i]!.type;
    let end = i + 1;
    while (end < events.length && events[end]!.type === type) end++;
    if ((type === "added" || type === "removed") && end - i > SINGLE_LINES_MAX) {
      for (let at = i; at < end; at += PEERS_PER_LINE) {
        const group = events.slice(at, Math.min(end, at + PEERS_PER_LINE)) as Extract<LeaseEvent, { lease: Lease }>[];
        const peers = group.map((e) => `${cidrOrNone(e.lease.subnet)} via ${e.lease.publicIp?.address ?? e.lease.publicIpv6?.address ?? "?"}`);
        logger.info({ count: group.length, peers }, type === "added" ? `Peers added: ${group.length}` : `Peers removed: ${group.length}`);
      }
    } else for (let at = i; at < end; at++) describe(events[at]!, logger);
    i = end;
  }
}

function describe(event: LeaseEvent, logger: Logger): void {
  if (event.type === "snapshot") logger.info({ peers: event.leases.map((l) => cidrOrNone(l.subnet)) }, `Lease snapshot: ${event.leases.length} peers`);
  else if (event.type === "added") logger.info({ subnet: cidrOrNone(event.lease.subnet), publicIp: event.lease.publicIp?.address, backendType: event.lease.backendType }, "Peer added");
  else if (event.type === "removed") logger.info({ subnet: cidrOrNone(event.lease.subnet), publicIp: event.lease.publicIp?.address }, "Peer removed");
  else logger.warn({ subnet: cidrOrNone(event.lease.subnet) }, "Own lease removed from the store");
}
