import { parseArgs } from "node:util";

/** Where the node's subnet lease lives. */
export type LeaseStoreKind = "kube" | "redis";

/** Everything weftd is told on the command line or through the environment. */
export interface AgentOptions {
  iface: string[];
  ifaceRegex: string[];
  publicIp?: string;
  publicIpv6?: string;
  ipMasq: boolean;
  subnetFile: string;
  netConfigPath: string;
  kubeSubnetMgr: boolean;
  kubeApiUrl?: string;
  kubeconfigFile?: string;
  kubeAnnotationPrefix: string;
  nodeName?: string;
  subnetLeaseRenewMarginMin: number;
  iptablesResyncSec: number;
  healthzIp: string;
  healthzPort: number;
  leaseStore: LeaseStoreKind;
  redisUrl: string;
  redisPrefix: string;
  metricsIp: string;
  metricsPort: number;
  cniSocket: string;
  cniDataDir: string;
  cniBridge: string;
  logLevel: string;
  backendPackages: string[];
}

interface FlagSpec {
  key: keyof AgentOptions;
  type: "string" | "boolean" | "number" | "list";
  default: string | boolean | number | string[] | undefined;
  help: string;
  /** flanneld has a flag of the same name and meaning; FLANNELD_<NAME> is honoured too. */
  flannel?: boolean;
}

/** The flags, in --help order. Names follow flanneld where the meaning is the same. */
export const AGENT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  "iface": { key: "iface", type: "list", default: [], flannel: true, help: "interface to use (name or IP address) for inter-node traffic; repeatable, first match wins" },
  "iface-regex": { key: "ifaceRegex", type: "list", default: [], flannel: true, help: "regex matched against interface addresses, then names; repeatable; checked after --iface" },
  "public-ip": { key: "publicIp", type: "string", default: undefined, flannel: true, help: "IPv4 address peers use to reach this node (default: the interface address)" },
  "public-ipv6": { key: "publicIpv6", type: "string", default: undefined, flannel: true, help: "IPv6 address peers use to reach this node (default: the interface address)" },
  "ip-masq": { key: "ipMasq", type: "boolean", default: false, flannel: true, help: "masquerade traffic from pods to destinations outside the cluster network" },
  "subnet-file": { key: "subnetFile", type: "string", default: "/run/flannel/subnet.env", flannel: true, help: "where to write the subnet.env file (flannel's format)" },
  "net-config-path": { key: "netConfigPath", type: "string", default: "/etc/kube-flannel/net-conf.json", flannel: true, help: "net-conf.json to read with --lease-store=kube" },
  "kube-subnet-mgr": { key: "kubeSubnetMgr", type: "boolean", default: false, flannel: true, help: "take the lease from the Kubernetes Node object (same as --lease-store=kube)" },
  "kube-api-url": { key: "kubeApiUrl", type: "string", default: undefined, flannel: true, help: "Kubernetes API server URL (default: in-cluster config or the kubeconfig)" },
  "kubeconfig-file": { key: "kubeconfigFile", type: "string", default: undefined, flannel: true, help: "kubeconfig file (default: in-cluster config)" },
  "kube-annotation-prefix": { key: "kubeAnnotationPrefix", type: "string", default: "flannel.alpha.coreos.com", flannel: true, help: "prefix of the node annotations Weft reads and writes" },
  "node-name": { key: "nodeName", type: "string", default: undefined, help: "this node's name (default: $NODE_NAME, else the host name)" },
  "subnet-lease-renew-margin": { key: "subnetLeaseRenewMarginMin", type: "number", default: 60, flannel: true, help: "renew the lease this many minutes before it expires (1-1439)" },
  "iptables-resync": { key: "iptablesResyncSec", type: "number", default: 5, flannel: true, help: "seconds between checks that the masquerade/forward rules are still in place" },
  "healthz-ip": { key: "healthzIp", type: "string", default: "0.0.0.0", flannel: true, help: "address for /healthz and /readyz" },
  "healthz-port": { key: "healthzPort", type: "number", default: 0, flannel: true, help: "port for /healthz and /readyz (0 disables)" },
  "lease-store": { key: "leaseStore", type: "string", default: "redis", help: "where leases live: kube (Node objects) or redis" },
  "redis-url": { key: "redisUrl", type: "string", default: "redis://127.0.0.1:6379", help: "Redis server for --lease-store=redis (redis://[user:password@]host:port, rediss:// for TLS)" },
  "redis-prefix": { key: "redisPrefix", type: "string", default: "/coreos.com/network", help: "key prefix in Redis: <prefix>/config holds net-conf.json, <prefix>/subnets/* the leases" },
  "metrics-ip": { key: "metricsIp", type: "string", default: "0.0.0.0", help: "address for the Prometheus /metrics endpoint" },
  "metrics-port": { key: "metricsPort", type: "number", default: 0, help: "port for the Prometheus /metrics endpoint (0 disables)" },
  "cni-socket": { key: "cniSocket", type: "string", default: "/run/weft/cni.sock", help: "unix socket where the CNI server answers the weft-cni binary (empty disables)" },
  "cni-data-dir": { key: "cniDataDir", type: "string", default: "/var/lib/cni/networks", help: "where pod address reservations are kept (host-local's format)" },
  "cni-bridge": { key: "cniBridge", type: "string", default: "cni0", help: "the node bridge pods are attached to" },
  "log-level": { key: "logLevel", type: "string", default: "info", help: "log level: debug, info, warn or error" },
  "backend-package": { key: "backendPackages", type: "list", default: [], help: "npm package of a third-party backend to load (exports `backends`: { type: factory }); repeatable" },
};

/** Thrown for a bad flag or environment value; the message names the flag. */
export class AgentOptionsError extends Error {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`--${flag}: ${message}`);
    this.name = "AgentOptionsError";
    this.flag = flag;
  }
}

/** `WEFTD_SUBNET_FILE` for `subnet-file`. */
export function envName(flag: string, prefix = "WEFTD"): string {
  return `${prefix}_${flag.toUpperCase().replace(/-/g, "_")}`;
}

/** The --help text: every flag with its environment variable and default. */
export function agentHelp(): string {
  const lines = [
    "usage: weftd [flags]",
    "",
    "Weft's node agent: takes this node's subnet lease, programs the overlay to every other node, writes subnet.env,",
    "installs masquerade rules and serves the CNI plugin. Every flag can also be set with WEFTD_<FLAG> (for example",
    "WEFTD_SUBNET_FILE); flags flanneld also has accept FLANNELD_<FLAG> too. The command line wins over the environment.",
    "",
  ];
  for (const [name, spec] of Object.entries(AGENT_FLAGS)) {
    const arg = spec.type === "boolean" ? "" : spec.type === "number" ? " <n>" : " <value>";
    const def = Array.isArray(spec.default) ? (spec.default.length ? spec.default.join(",") : "none") : spec.default === undefined ? "none" : String(spec.default);
    lines.push(`  --${name}${arg}`);
    lines.push(`      ${spec.help}`);
    lines.push(`      env ${envName(name)}${spec.flannel ? ` or ${envName(name, "FLANNELD")}` : ""}; default: ${def}`);
  }
  lines.push("  -h, --help      this help", "  --version       print the version and exit", "");
  return lines.join("\n");
}

/** Options for {@linkcode parseAgentOptions}. */
export interface ParseAgentOptionsOptions {
  /** The environment; @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** What the command line asked for: run the agent, or print help/version. */
export type AgentCommand = { kind: "run"; options: AgentOptions } | { kind: "help" } | { kind: "version" };

function convert(name: string, spec: FlagSpec, raw: string | boolean | string[]): AgentOptions[keyof AgentOptions] {
  if (spec.type === "boolean") {
    if (typeof raw === "boolean") return raw;
    const text = String(raw).toLowerCase();
    if (["1", "true", "yes", "on"].includes(text)) return true;
    if (["0", "false", "no", "off", ""].includes(text)) return false;
    throw new AgentOptionsError(name, `expected true or false, got "${raw}"`);
  }
  if (spec.type === "number") {
    const n = Number(raw);
    if (typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n) || n < 0) {
      throw new AgentOptionsError(name, `expected a whole number, got "${String(raw)}"`);
    }
    return n;
  }
  if (spec.type === "list") return Array.isArray(raw) ? raw : String(raw).split(",").map((s) => s.trim()).filter(Boolean);
  return String(raw);
}

/** Parses argv (without node and script) and the environment into the agent's options, validating every value. */
export function parseAgentOptions(argv: readonly string[], options: ParseAgentOptionsOptions = {}): AgentCommand {
  const env = options.env ?? process.env;
  const parseOptions: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {
    help: { type: "boolean", short: "h" },
    version: { type: "boolean" },
  };
  for (const [name, spec] of Object.entries(AGENT_FLAGS)) {
    parseOptions[name] = { type: spec.type === "boolean" ? "boolean" : "string", multiple: spec.type === "list" };
  }
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: [...argv], options: parseOptions, allowPositionals: false, strict: true }).values as typeof values;
  } catch (err) {
    throw new AgentOptionsError(String((err as Error).message.match(/'--?([\w-]+)/)?.[1] ?? "?"), `${(err as Error).message} (see weftd --help)`);
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const result: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(AGENT_FLAGS)) {
    let raw = values[name];
    if (raw === undefined) raw = env[envName(name)] ?? (spec.flannel ? env[envName(name, "FLANNELD")] : undefined);
    result[spec.key] = raw === undefined ? (Array.isArray(spec.default) ? [...spec.default] : spec.default) : convert(name, spec, raw);
  }
  const opts = result as unknown as AgentOptions;
  // --kube-subnet-mgr is flannel's spelling of --lease-store=kube.
  if (opts.kubeSubnetMgr) opts.leaseStore = "kube";
  if (opts.leaseStore !== "kube" && opts.leaseStore !== "redis") {
    throw new AgentOptionsError("lease-store", `expected kube or redis, got "${opts.leaseStore}"`);
  }
  if (opts.subnetLeaseRenewMarginMin < 1 || opts.subnetLeaseRenewMarginMin > 1439) {
    throw new AgentOptionsError("subnet-lease-renew-margin", `must be between 1 and 1439 minutes, got ${opts.subnetLeaseRenewMarginMin}`);
  }
  for (const [flag, port] of [["healthz-port", opts.healthzPort], ["metrics-port", opts.metricsPort]] as const) {
    if (port > 65535) throw new AgentOptionsError(flag, `must be a port number (0-65535), got ${port}`);
  }
  if (opts.iptablesResyncSec < 1) throw new AgentOptionsError("iptables-resync", "must be at least 1 second");
  for (const re of opts.ifaceRegex) {
    try {
      new RegExp(re);
    } catch (err) {
      throw new AgentOptionsError("iface-regex", `"${re}" is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  if (!["debug", "info", "warn", "error"].includes(opts.logLevel)) {
    throw new AgentOptionsError("log-level", `expected debug, info, warn or error, got "${opts.logLevel}"`);
  }
  opts.nodeName ??= env.NODE_NAME || undefined;
  return { kind: "run", options: opts };
}
