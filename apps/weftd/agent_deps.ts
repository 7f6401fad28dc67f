// Wires the agent's real dependencies from the command line: kernel access in this namespace, the lease
// registry (Redis or Kubernetes), the built-in backends plus third-party ones, nftables rules and the CNI server.
import { readFile } from "node:fs/promises";
import { BackendRegistry, type BackendFactory, type Logger } from "@weft/backend";
import { createHostGwBackend } from "@weft/backend-host-gw";
import { createVxlanBackend } from "@weft/backend-vxlan";
import { createCniServer, createPodNetwork, type CniPlugin } from "@weft/cni";
import { createIpRoute, createIpSession } from "@weft/iproute";
import { parseNetConf, type NetConf } from "@weft/netconf";
import { createNftables } from "nftables-js";
import {
  createRedisClient,
  KubeLeaseRegistry,
  LeaseManager,
  NetConfNotFoundError,
  readRedisNetConf,
  RedisLeaseRegistry,
  resolveNodeName,
  type LeaseRegistry,
} from "@weft/subnet";
import { TrafficManager } from "@weft/traffic";
import type { AgentDeps } from "./agent.ts";
import type { AgentMetrics } from "./agent_metrics.ts";
import type { AgentOptions } from "./agent_options.ts";

/** The backends weftd ships with; `--backend-package` adds more. */
export const BUILTIN_BACKENDS: Readonly<Record<string, BackendFactory>> = {
  vxlan: createVxlanBackend,
  "host-gw": createHostGwBackend,
};

/** Loads third-party backend packages: each must export `backends`, a map of type to factory. */
export async function loadBackendRegistry(packages: readonly string[]): Promise<BackendRegistry> {
  const registry = new BackendRegistry(BUILTIN_BACKENDS);
  for (const name of packages) {
    let mod: { backends?: Record<string, BackendFactory> };
    try {
      mod = (await import(name)) as typeof mod;
    } catch (err) {
      throw new TypeError(`--backend-package ${name}: cannot load it: ${(err as Error).message}`, { cause: err });
    }
    if (!mod.backends || typeof mod.backends !== "object") throw new TypeError(`--backend-package ${name}: it does not export "backends" ({ type: factory })`);
    for (const [type, factory] of Object.entries(mod.backends)) registry.register(type, factory);
  }
  return registry;
}

/** Instruments a CNI plugin with the request-latency histogram. */
export function instrumentCniPlugin(plugin: CniPlugin, metrics: AgentMetrics): CniPlugin {
  const wrap = <A extends unknown[], R>(command: string, fn: (...a: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const end = metrics.cniRequestDuration.startTimer({ command });
    try {
      const r = await fn(...args);
      end({ code: "0" });
      return r;
    } catch (err) {
      end({ code: String((err as { code?: unknown }).code ?? 999) });
      throw err;
    }
  };
  return {
    add: wrap("ADD", plugin.add.bind(plugin)),
    del: wrap("DEL", plugin.del.bind(plugin)),
    check: wrap("CHECK", plugin.check.bind(plugin)),
    status: wrap("STATUS", plugin.status.bind(plugin)),
    gc: wrap("GC", plugin.gc.bind(plugin)),
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });

/** The real dependencies and a function that releases them (connections, sockets). */
export async function createAgentDeps(options: AgentOptions, context: { logger: Logger; metrics: AgentMetrics }): Promise<{ deps: AgentDeps; close(): Promise<void> }> {
  const { logger, metrics } = context;
  const closers: (() => Promise<void>)[] = [];
  let registry: LeaseRegistry;
  let readNetConf: AgentDeps["readNetConf"];
  let onReady: AgentDeps["onReady"];
  const warn = (message: string) => logger.warn({}, message);

  if (options.leaseStore === "redis") {
    const client = createRedisClient({ url: options.redisUrl });
    let lastRedisError = "";
    client.on("error", (err: Error) => {
      // ioredis reconnects by itself; log each distinct failure once instead of once per retry.
      if (err.message !== lastRedisError) logger.warn({ err: err.message, redis: options.redisUrl }, "Redis connection error; reconnecting");
      lastRedisError = err.message;
    });
    client.on("ready", () => (lastRedisError = ""));
    closers.push(async () => void client.disconnect());
    registry = new RedisLeaseRegistry(client, {
      prefix: options.redisPrefix,
      onWatchError: (err) => logger.warn({ err: (err as Error).message }, "Lease watch lost Redis; re-listing when it is back"),
    });
    readNetConf = async (signal) => {
      // flannel retries every second until <prefix>/config exists.
      for (let attempt = 0; ; attempt++) {
        try {
          return await readRedisNetConf(client, { prefix: options.redisPrefix });
        } catch (err) {
          if (!(err instanceof NetConfNotFoundError) || signal.aborted) throw err;
          if (attempt % 10 === 0) logger.warn({ key: `${options.redisPrefix}/config` }, err.message);
          await sleep(1000, signal);
        }
      }
    };
  } else {
    // Loaded only in kube mode: @kubernetes/client-node costs 0.5 s or more to import.
    const { loadKubeConfig } = await import("@weft/kube");
    const kubeConfig = loadKubeConfig({
      ...(options.kubeconfigFile ? { kubeconfigPath: options.kubeconfigFile } : {}),
      ...(options.kubeApiUrl ? { apiUrl: options.kubeApiUrl } : {}),
    });
    const nodeName = options.nodeName ?? (await resolveNodeName(kubeConfig));
    const kube = new KubeLeaseRegistry(kubeConfig, nodeName, {
      annotationPrefix: options.kubeAnnotationPrefix,
      onPodCidrWait: (err) => logger.warn({ node: nodeName }, err.message),
    });
    registry = kube;
    onReady = () => kube.markNetworkAvailable();
    readNetConf = async () => {
      let text: string;
      try {
        text = await readFile(options.netConfigPath, "utf8");
      } catch (err) {
        throw new Error(`failed to read net conf: ${(err as Error).message}`, { cause: err });
      }
      // flannel's kube subnet manager parses without CheckNetworkConfig; defaults are still filled in.
      return parseNetConf(text, { onWarning: warn });
    };
  }

  const leases = new LeaseManager(registry, { renewMarginMs: options.subnetLeaseRenewMarginMin * 60_000 });
  const deps: AgentDeps = {
    logger,
    metrics,
    iproute: createIpRoute(),
    ipSession: () => createIpSession(),
    readNetConf,
    leases,
    ...(onReady ? { onReady } : {}),
    backends: await loadBackendRegistry(options.backendPackages),
    createTraffic: (config: NetConf, lease) =>
      new TrafficManager((family, table) => createNftables({ family, table }), {
        ...(config.enableIPv4 && config.network ? { network: config.network, podSubnet: lease.subnet } : {}),
        ...(config.enableIPv6 && config.ipv6Network ? { ipv6Network: config.ipv6Network, ipv6PodSubnet: lease.ipv6Subnet } : {}),
        masquerade: options.ipMasq,
        resyncMs: options.iptablesResyncSec * 1000,
        logger,
      }),
  };
  if (options.cniSocket) {
    deps.startCni = async () => {
      const pods = createPodNetwork({ log: (message) => logger.warn({}, message) });
      const server = createCniServer({
        socketPath: options.cniSocket,
        plugin: { ...instrumentCniPlugin(pods, metrics), close: () => pods.close() },
        onInternalError: (err) => logger.error({ err: (err as Error).message }, "CNI request failed"),
      });
      await server.start();
      logger.info({ socket: options.cniSocket }, "CNI server listening");
      return () => server.stop();
    };
  }
  return { deps, close: async () => void (await Promise.allSettled(closers.map((c) => c()))) };
}
