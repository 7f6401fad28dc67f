import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The agent's Prometheus metrics, in their own registry (served on --metrics-port at /metrics). */
export interface AgentMetrics {
  readonly registry: Registry;
  /** 1 while this node holds its lease, labelled with the subnet and backend. */
  readonly leaseInfo: Gauge<"subnet" | "backend">;
  /** Lease expiry, seconds since the epoch (0 = no expiry). */
  readonly leaseExpiration: Gauge;
  /** Number of peers (other nodes' leases) this node programs. */
  readonly peers: Gauge;
  /** Time to apply one lease event (or a periodic repair) to the kernel. */
  readonly reconcileDuration: Histogram<"trigger">;
  /** Kernel operations (ip, bridge, nft) that failed, by subsystem. */
  readonly kernelErrors: Counter<"subsystem">;
  /** CNI requests by command and result code ("0" = success). */
  readonly cniRequestDuration: Histogram<"command" | "code">;
  /** 1 once the agent is ready (rules in, subnet.env written). */
  readonly ready: Gauge;
}

/** Options for {@linkcode createAgentMetrics}. */
export interface CreateAgentMetricsOptions {
  /** Also collect Node's process metrics (CPU, memory, event loop); @default true */
  processMetrics?: boolean;
}

/** Creates the metrics in a fresh registry. */
export function createAgentMetrics(options: CreateAgentMetricsOptions = {}): AgentMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "weftd_" });
  const registers = [registry];
  return {
    registry,
    leaseInfo: new Gauge({ name: "weft_lease_info", help: "1 while this node holds the lease for subnet", labelNames: ["subnet", "backend"], registers }),
    leaseExpiration: new Gauge({ name: "weft_lease_expiration_seconds", help: "When this node's lease expires (unix seconds, 0 = never)", registers }),
    peers: new Gauge({ name: "weft_peers", help: "Other nodes whose subnets this node routes to", registers }),
    reconcileDuration: new Histogram({
      name: "weft_reconcile_duration_seconds",
      help: "Time to bring routes, neighbours and FDB entries in line with the leases",
      labelNames: ["trigger"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    kernelErrors: new Counter({ name: "weft_kernel_operation_errors_total", help: "Kernel operations (ip, bridge, nft) that failed", labelNames: ["subsystem"], registers }),
    cniRequestDuration: new Histogram({
      name: "weft_cni_request_duration_seconds",
      help: "CNI requests served, by command and CNI result code (0 = success)",
      labelNames: ["command", "code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    }),
    ready: new Gauge({ name: "weft_ready", help: "1 once masquerade rules are in and subnet.env is written", registers }),
  };
}
