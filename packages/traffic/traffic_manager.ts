import type { Cidr } from "@weft/ipam";
import type { Nftables } from "nftables-js";
import { isInvalid, isNotFound } from "nftables-js";
import { sleep } from "./_sleep.ts";
import { FORWARD_TABLE, forwardTable, MASQ_TABLE, masqueradeTable, type CidrText, type TableSpec } from "./traffic_rules.ts";

/** pino-compatible logger (`{ debug, info, warn, error }`, object first). */
export interface TrafficLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Builds the nftables handle for one of our tables (e.g. `(family, table) => createNftables({ family, table, netns })`). */
export type NftablesFactory = (family: "ip" | "ip6", table: string) => Nftables;

/** Options for {@linkcode TrafficManager}. */
export interface TrafficManagerOptions {
  /** The IPv4 cluster Network (net-conf.json `Network`), e.g. `10.244.0.0/16`; @default undefined (no IPv4 rules) */
  network?: CidrText | Cidr;
  /** This node's IPv4 lease subnet, e.g. `10.244.1.0/24`; required with `network` when `masquerade` is on. @default undefined */
  podSubnet?: CidrText | Cidr;
  /** The IPv6 cluster Network (`IPv6Network`); @default undefined (no IPv6 rules) */
  ipv6Network?: CidrText | Cidr;
  /** This node's IPv6 lease subnet; @default undefined */
  ipv6PodSubnet?: CidrText | Cidr;
  /** Install the masquerade rules (flanneld `--ip-masq`); @default true */
  masquerade?: boolean;
  /** Install the forward-accept rules (flanneld `--iptables-forward-rules`); @default true */
  forward?: boolean;
  /**
   * `masquerade fully-random`: `true` requires it, `false` never uses it (flanneld
   * `--ip-masq-fully-random-disable`), `"auto"` uses it unless the kernel rejects it. @default "auto"
   */
  fullyRandom?: boolean | "auto";
  /** The proxy's masquerade mark that is never masqueraded again; @default 0x4000 */
  masqueradeMark?: number;
  /** Table names; @default { masq: "weft-masq", forward: "weft-forward" } */
  tableNames?: { masq?: string; forward?: string };
  /** How often {@linkcode TrafficManager.run} re-checks the rules (flanneld `--iptables-resync` is 5 s); @default 5000 */
  resyncMs?: number;
  /** @default a no-op logger */
  logger?: TrafficLogger;
}

const ignore = (): void => {};
const NOOP: TrafficLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

interface Managed {
  readonly nft: Nftables;
  spec: TableSpec;
  /** Rule bodies per chain as the kernel listed them right after our last apply. */
  fingerprint?: Map<string, string[]>;
}

/**
 * Keeps flannel's masquerade and forward rules in Weft's own nftables tables (`ip`/`ip6`
 * `weft-masq` and `weft-forward`). It never reads or changes any other table.
 *
 * - {@linkcode install} writes each table in one atomic transaction that deletes and re-creates
 *   it, so a previous install with another Network or lease subnet leaves nothing behind.
 * - {@linkcode ensure} lists each table and re-installs it when a chain or rule is missing,
 *   changed, duplicated or reordered (flannel's resync ignores duplicates and order, #1337).
 * - {@linkcode run} calls `ensure` every `resyncMs` until aborted.
 * - {@linkcode uninstall} deletes our tables.
 *
 * Note on forward accepts: in nftables an `accept` only ends the packet's walk through one base
 * chain; a `drop` in another table's forward chain (e.g. Docker's iptables-nft FORWARD policy
 * DROP) still drops it. The table mirrors flannel's nftables mode; it cannot override foreign drops.
 */
export class TrafficManager {
  readonly #factory: NftablesFactory;
  readonly #options: Omit<TrafficManagerOptions, "network" | "podSubnet" | "ipv6Network" | "ipv6PodSubnet"> & {
    network?: CidrText;
    podSubnet?: CidrText;
    ipv6Network?: CidrText;
    ipv6PodSubnet?: CidrText;
  };
  readonly #log: TrafficLogger;
  #fullyRandom: boolean;
  #tables: Managed[] | undefined;

  constructor(nftables: NftablesFactory, options: TrafficManagerOptions) {
    if (!options.network && !options.ipv6Network) throw new TypeError("network: at least one of network and ipv6Network is required");
    if ((options.masquerade ?? true) && options.network && !options.podSubnet) throw new TypeError("podSubnet: required with network when masquerade is on");
    if ((options.masquerade ?? true) && options.ipv6Network && !options.ipv6PodSubnet) {
      throw new TypeError("ipv6PodSubnet: required with ipv6Network when masquerade is on");
    }
    this.#factory = nftables;
    const { network, podSubnet, ipv6Network, ipv6PodSubnet, ...rest } = options;
    this.#options = {
      ...rest,
      ...(network ? { network: asText(network) } : {}),
      ...(podSubnet ? { podSubnet: asText(podSubnet) } : {}),
      ...(ipv6Network ? { ipv6Network: asText(ipv6Network) } : {}),
      ...(ipv6PodSubnet ? { ipv6PodSubnet: asText(ipv6PodSubnet) } : {}),
    };
    this.#log = options.logger ?? NOOP;
    this.#fullyRandom = options.fullyRandom !== false;
  }

  /** The tables this manager owns, as rendered now (for logs and tests). */
  tables(): TableSpec[] {
    return this.#managed().map((m) => m.spec);
  }

  /** Writes every table (each in one atomic transaction). */
  async install(): Promise<void> {
    for (const m of this.#managed()) await this.#apply(m);
  }

  /**
   * Checks every table against what it should contain and re-installs the ones that differ or are
   * missing. Resolves to true when something was repaired.
   */
  async ensure(): Promise<boolean> {
    let repaired = false;
    for (const m of this.#managed()) {
      const problem = await this.#problem(m);
      if (problem === undefined) continue;
      this.#log.warn({ table: `${m.spec.family} ${m.spec.name}`, problem }, "traffic rules changed by someone else; re-applying");
      await this.#apply(m);
      repaired = true;
    }
    return repaired;
  }

  /** Deletes our tables; tables that are already gone are fine. */
  async uninstall(): Promise<void> {
    for (const m of this.#managed()) {
      try {
        await m.nft.run(m.nft.newTransaction().delete({ kind: "table" }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      delete m.fingerprint;
    }
  }

  /** Calls {@linkcode ensure} every `resyncMs` until `signal` aborts; errors are logged, not thrown. */
  async run(signal: AbortSignal): Promise<void> {
    const every = this.#options.resyncMs ?? 5000;
    while (!signal.aborted) {
      await sleep(every, signal);
      if (signal.aborted) break;
      try {
        await this.ensure();
      } catch (err) {
        this.#log.error({ err }, "cannot ensure traffic rules");
      }
    }
  }

  #managed(): Managed[] {
    if (this.#tables) return this.#tables;
    const o = this.#options;
    const tables: Managed[] = [];
    const masqName = o.tableNames?.masq ?? MASQ_TABLE;
    const fwdName = o.tableNames?.forward ?? FORWARD_TABLE;
    for (const [family, network, pod] of [
      ["ip", o.network, o.podSubnet],
      ["ip6", o.ipv6Network, o.ipv6PodSubnet],
    ] as const) {
      if (!network) continue;
      if (o.masquerade ?? true) tables.push({ nft: this.#factory(family, masqName), spec: this.#masqSpec(network, pod ?? "", masqName) });
      if (o.forward ?? true) tables.push({ nft: this.#factory(family, fwdName), spec: forwardTable(network, { tableName: fwdName }) });
    }
    return (this.#tables = tables);
  }

  #masqSpec(network: CidrText, pod: CidrText, tableName: string): TableSpec {
    return masqueradeTable(network, pod, { tableName, fullyRandom: this.#fullyRandom, masqueradeMark: this.#options.masqueradeMark ?? 0x4000 });
  }

  async #apply(m: Managed): Promise<void> {
    try {
      await m.nft.run(buildTransaction(m.nft, m.spec));
    } catch (err) {
      const auto = (this.#options.fullyRandom ?? "auto") === "auto";
      if (!(auto && this.#fullyRandom && isInvalid(err) && m.spec.chains.some((c) => c.type === "nat"))) throw err;
      // flannel probes with a throwaway chain; retrying without the flag has the same effect.
      this.#log.warn({ err }, "kernel rejects masquerade fully-random; masquerading without it");
      this.#fullyRandom = false;
      for (const other of this.#managed()) {
        if (other.spec.chains.some((c) => c.type === "nat")) {
          const net = this.#options[other.spec.family === "ip" ? "network" : "ipv6Network"] ?? "";
          const pod = this.#options[other.spec.family === "ip" ? "podSubnet" : "ipv6PodSubnet"] ?? "";
          other.spec = this.#masqSpec(net, pod, other.spec.name);
        }
      }
      await m.nft.run(buildTransaction(m.nft, m.spec));
    }
    m.fingerprint = await listRules(m.nft);
  }

  async #problem(m: Managed): Promise<string | undefined> {
    let actual: Map<string, string[]>;
    try {
      actual = await listRules(m.nft);
    } catch (err) {
      if (isNotFound(err)) return "table missing";
      throw err;
    }
    const expected = m.fingerprint ?? new Map(m.spec.chains.map((c) => [c.name, [...c.rules]]));
    for (const [chain, rules] of expected) {
      const got = actual.get(chain);
      if (!got) return `chain ${chain} missing`;
      if (got.length !== rules.length || got.some((r, i) => r !== rules[i])) return `chain ${chain} has ${got.length} rules that differ from the ${rules.length} expected`;
    }
    return undefined;
  }
}

function buildTransaction(nft: Nftables, spec: TableSpec) {
  // add + delete + add: the table is recreated from scratch in one atomic transaction.
  const tx = nft.newTransaction().add({ kind: "table" }).delete({ kind: "table" }).add({ kind: "table", comment: spec.comment });
  for (const chain of spec.chains) {
    tx.add({ kind: "chain", name: chain.name, type: chain.type, hook: chain.hook, priority: chain.priority as "srcnat", policy: "accept", comment: chain.comment });
    for (const rule of chain.rules) tx.add({ kind: "rule", chain: chain.name, rule });
  }
  return tx;
}

async function listRules(nft: Nftables): Promise<Map<string, string[]>> {
  const listing = await nft.list({ elements: false });
  const byChain = new Map<string, string[]>(listing.chains.map((c) => [c.name, []]));
  for (const r of listing.rules) byChain.get(r.chain)?.push(r.rule);
  return byChain;
}

function asText(c: CidrText | Cidr): CidrText {
  return typeof c === "string" ? c : `${c.address}/${c.prefixLength}`;
}
