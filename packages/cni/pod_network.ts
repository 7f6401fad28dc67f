// Pod network setup with the semantics flannel gives its pods through bridge + host-local:
//
//  - a bridge (`cni0`) created once, with the node subnet's first address as gateway and a MAC
//    derived from that address (set explicitly, so it never changes as ports come and go);
//  - per pod a veth pair: `<ifname>` in the pod, `veth<8 hex>` on the host (a hash of container ID
//    and ifname, so DEL and CHECK find it without extra state), on the bridge, hairpin on;
//  - one address per family from the node subnet, allocated the host-local way from an @weft/ipam
//    store in host-local's on-disk format, routes to the cluster networks via the gateway; a
//    requested address (CNI_ARGS `IP=`, `args.cni.ips`, `runtimeConfig.ips`) is honoured as
//    host-local does, and a requested MAC (CNI_ARGS `MAC=`, `args.cni.mac`, `runtimeConfig.mac`,
//    last wins) is set on the pod interface as the bridge plugin does (see _pod_requests.ts);
//  - MTU and ipMasq (= !FLANNEL_IPMASQ) from subnet.env unless the config sets them.
//
// Every kernel change goes through @weft/iproute: `Batch` renders and validates each line, host-side
// changes run over long-lived `IpSession`s and the pod side rides on the same session job as a
// `next` batch (`netns exec <pod> ip -batch <file>`, forked from the small ip process).
// Speed: an ADD costs one session job (no process started from Node) and one small file per address.
// A DEL releases the addresses and answers; deleting the veth (20 ms of kernel work, most of a
// reference DEL) runs in the background. That is safe because the host veth name is derived from
// (container ID, ifname): a later ADD of the same pair waits for the pending teardown, and
// `settled()`/`close()` wait for all of them.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DiskIpamStore, formatCidr, gatewayOf, parseIp } from "@weft/ipam";
import type { Cidr, IpamStore, PodIpAllocation } from "@weft/ipam";
import { SubnetEnvNotFoundError, readSubnetEnv } from "@weft/netconf";
import {
  Batch, BatchError, createExec, createIpRoute, createIpSession, isExists, isNotFound,
  type Exec, type IpRoute, type IpSession,
} from "@weft/iproute";
import { KeyedLock } from "./_keyed_lock.ts";
import { PodIpam } from "./_pod_ipam.ts";
import { requestedIps, requestedMac } from "./_pod_requests.ts";
import { CniError } from "./cni_error.ts";
import { CNI_ERROR } from "./constants.ts";
import type { CniCall, CniGcCall, CniPlugin } from "./dispatch.ts";
import type { CniExec, CniInterface, CniIpConfig, CniResult, CniRoute } from "./types.ts";
import { parseWeftNetConf, type WeftNetConf } from "./weft_net_conf.ts";

/** Options for {@linkcode createPodNetwork}. */
export interface PodNetworkOptions {
  /**
   * The namespace (name or path) holding the bridge and host veths; tests pass a throwaway one.
   * @default undefined (the process's own namespace, as in weftd)
   */
  hostNetns?: string;
  /**
   * Runs `ip`, `nsenter` and `sysctl` (for tests that inject failures); adapted to @weft/iproute's
   * exec seam. @default @weft/iproute's `createExec()`
   */
  exec?: CniExec;
  /** Opens the address store of one network directory; @default a DiskIpamStore on `dir` */
  openStore?: (dir: string) => IpamStore;
  /**
   * Apply host-side changes over long-lived @weft/iproute `IpSession`s (`setupSessions` for setup,
   * one for teardown) instead of starting `ip` per change; @default true unless `exec` is given
   */
  persistentIp?: boolean;
  /** How many setup sessions run ADDs side by side (with `persistentIp`); @default 8 */
  setupSessions?: number;
  /** Delete veths in the background after DEL answered; @default true */
  asyncTeardown?: boolean;
  /** Receives background failures and rollback errors; @default ignore */
  log?: (message: string) => void;
}

/** The plugin plus the waits a host needs. */
export interface PodNetwork extends CniPlugin {
  /** Resolves when every background veth teardown has finished. */
  settled(): Promise<void>;
  /** Waits for background work and closes the address stores. */
  close(): Promise<void>;
}

/** What an attachment's state file records (beside host-local's address files). */
export interface AttachmentState {
  containerId: string;
  ifname: string;
  netns: string;
  hostVeth: string;
  bridge: string;
  addresses: string[];
  mtu: number;
  /** Whether traffic from this pod should be masqueraded (!FLANNEL_IPMASQ unless configured). */
  ipMasq: boolean;
}

interface NodeSubnets {
  /** One per family: IPv4 first. */
  subnets: Cidr[];
  /** Cluster networks (FLANNEL_NETWORK and FLANNEL_IPV6_NETWORK entries). */
  networks: Cidr[];
  mtu: number;
  ipMasq: boolean;
}

interface BridgeInfo {
  mac: string;
  key: string;
}

/** The host-side veth name of an attachment: `veth` + 8 hex digits of sha256(containerID, ifname). */
export function hostVethName(containerId: string, ifname: string): string {
  return "veth" + createHash("sha256").update(`${containerId}\0${ifname}`).digest("hex").slice(0, 8);
}

/** @weft/iproute's exec seam over the plugin's `CniExec` option (a rejection is a failed run). */
function fromCniExec(exec: CniExec): Exec {
  return {
    async run(argv, options = {}) {
      const [file, ...args] = argv;
      try {
        return { stdout: await exec(file!, args, options.input), stderr: "", code: 0 };
      } catch (err) {
        const e = err as Error & { stderr?: string };
        return { stdout: "", stderr: e.stderr?.trim() ? e.stderr : e.message, code: 1 };
      }
    },
    // eslint-disable-next-line require-yield
    async *lines() {
      throw new TypeError("PodNetworkOptions.exec cannot run ip monitor");
    },
  };
}

function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

function bridgeMac(subnets: Cidr[], bridge: string): string {
  const v4 = subnets.find((s) => s.family === 4);
  const bytes = v4 ? [0x0a, 0x58, ...v4.address.split(".").map(Number)] : [0x0a, 0x58, ...createHash("sha256").update(bridge).digest().subarray(0, 4)];
  if (v4) bytes[5] = bytes[5]! + 1; // the gateway is the subnet's first address
  return bytes.map((x) => x.toString(16).padStart(2, "0")).join(":");
}

async function loadSubnets(conf: WeftNetConf): Promise<NodeSubnets> {
  let env;
  try {
    env = await readSubnetEnv(conf.subnetFile);
  } catch (err) {
    if (err instanceof SubnetEnvNotFoundError || (err as { code?: string }).code === "ENOENT") {
      throw new CniError(CNI_ERROR.tryAgainLater, `subnet file ${conf.subnetFile} does not exist: this node has no pod subnet yet`, {
        details: "weftd (or flanneld) writes it once the node holds a subnet lease; check its log on this node",
        cause: err,
      });
    }
    throw new CniError(CNI_ERROR.ioFailure, `Cannot read subnet file ${conf.subnetFile}: ${(err as Error).message}`, { cause: err });
  }
  const subnets = [env.subnet, env.ipv6Subnet].filter((s): s is Cidr => s !== undefined);
  const missing: string[] = [];
  if (subnets.length === 0) missing.push("FLANNEL_SUBNET");
  if (env.subnet && env.networks.length === 0) missing.push("FLANNEL_NETWORK");
  if (env.ipv6Subnet && env.ipv6Networks.length === 0) missing.push("FLANNEL_IPV6_NETWORK");
  if (env.mtu === undefined && conf.mtu === undefined) missing.push("FLANNEL_MTU");
  if (env.ipMasq === undefined && conf.ipMasq === undefined) missing.push("FLANNEL_IPMASQ");
  if (missing.length > 0) {
    throw new CniError(CNI_ERROR.invalidNetworkConfig, `${conf.subnetFile} is missing ${missing.join(", ")}`);
  }
  return {
    subnets,
    networks: [...(env.subnet ? env.networks : []), ...(env.ipv6Subnet ? env.ipv6Networks : [])],
    mtu: conf.mtu ?? env.mtu!,
    ipMasq: conf.ipMasq ?? !env.ipMasq,
  };
}

/** The cluster networks (gateway implied, as in flannel's delegate config) plus configured routes. */
function podRoutes(conf: WeftNetConf, node: NodeSubnets): CniRoute[] {
  return [...node.networks.map((n) => ({ dst: formatCidr(n) })), ...conf.routes];
}

/** Creates the Weft CNI plugin (ADD/DEL/CHECK/STATUS/GC) for a node. */
export function createPodNetwork(options: PodNetworkOptions = {}): PodNetwork {
  const exec: Exec = options.exec ? fromCniExec(options.exec) : createExec();
  const host = options.hostNetns;
  const hostIp: IpRoute = createIpRoute({ ...(host !== undefined ? { netns: host } : {}), exec });
  const podIp = (netns: string): IpRoute => createIpRoute({ netns, exec });
  const newSession = (): IpSession => createIpSession({ ...(host !== undefined ? { netns: host } : {}), exec });
  const log = options.log ?? (() => {});
  const asyncTeardown = options.asyncTeardown ?? true;
  const openStore = options.openStore ?? ((dir: string) => new DiskIpamStore(dir));
  const persistent = options.persistentIp ?? options.exec === undefined;
  const setupSessions = persistent ? Array.from({ length: options.setupSessions ?? 8 }, newSession) : [];
  const setupSession = setupSessions[0];
  const teardownSession = persistent ? newSession() : undefined;
  /** The least busy setup session. */
  const pickSession = () => setupSessions.reduce<IpSession | undefined>((best, s) => (best === undefined || s.pending < best.pending ? s : best), undefined);
  /** A host-side batch: through a long-lived session, or one `ip -batch` run. */
  const hostApply = (batch: Batch, session = setupSession, continueOnError = false) =>
    session ? session.apply(batch, { continueOnError }) : hostIp.apply(batch, { continueOnError });
  const containerLock = new KeyedLock();
  const bridges = new Map<string, Promise<BridgeInfo>>();
  const stores = new Map<string, IpamStore>();
  const ipams = new Map<string, PodIpam>();
  const teardowns = new Map<string, Promise<void>>();

  const storeFor = (conf: WeftNetConf): IpamStore => {
    const dir = join(conf.dataDir, conf.name);
    let s = stores.get(dir);
    if (!s) {
      s = openStore(dir);
      stores.set(dir, s);
    }
    return s;
  };

  const ipamFor = (conf: WeftNetConf, node: NodeSubnets): PodIpam => {
    const key = `${join(conf.dataDir, conf.name)}|${node.subnets.map(formatCidr).join(",")}`;
    let p = ipams.get(key);
    if (!p) {
      p = new PodIpam(storeFor(conf), node.subnets);
      ipams.set(key, p);
    }
    return p;
  };

  const sysctl = async (key: string, value: number) => {
    await hostIp.sysctl.set(key, value).catch((err) => log(`sysctl ${key}=${value} failed: ${(err as Error).message}`));
  };

  const setupBridge = async (conf: WeftNetConf, node: NodeSubnets): Promise<BridgeInfo> => {
    const name = conf.bridge;
    const gateways = node.subnets.map((s) => `${gatewayOf(s).address}/${s.prefixLength}`);
    let link = await hostIp.link.get(name);
    if (!link) {
      const mac = bridgeMac(node.subnets, name);
      await hostIp.link.add({ type: "bridge", name, mac, mtu: node.mtu }).catch((err) => {
        if (!isExists(err)) throw err;
      });
      link = await hostIp.link.get(name);
    }
    if (!link) throw new CniError(CNI_ERROR.internal, `bridge ${name} vanished while it was being set up`);
    if (link.kind !== "bridge") {
      throw new CniError(CNI_ERROR.invalidNetworkConfig, `invalid network config: "bridge" names ${name}, which exists and is not a bridge`);
    }
    const have = new Set((await hostIp.address.list({ dev: name })).map((a) => a.cidr));
    const batch = new Batch();
    if (conf.isGateway) {
      for (const gw of gateways) if (!have.has(gw)) batch.addAddress({ dev: name, address: gw, ...(gw.includes(":") ? { noDad: true } : {}) });
    }
    // Re-set the MAC to itself: an explicitly set MAC stays stable while ports come and go.
    batch.setLink(name, { ...(link.mac !== undefined ? { mac: link.mac } : {}), up: true });
    await hostIp.apply(batch, { continueOnError: true }).catch((err) => {
      if (!(err instanceof BatchError && err.failures.every(isExists))) throw err;
    });
    if (conf.isGateway) {
      if (node.subnets.some((s) => s.family === 4)) await sysctl("net/ipv4/ip_forward", 1);
      if (node.subnets.some((s) => s.family === 6)) await sysctl("net/ipv6/conf/all/forwarding", 1);
    }
    return { mac: link.mac ?? bridgeMac(node.subnets, name), key: bridgeKey(conf, node) };
  };

  const bridgeKey = (conf: WeftNetConf, node: NodeSubnets) => `${conf.bridge}|${conf.isGateway}|${node.subnets.map(formatCidr).join(",")}`;

  const ensureBridge = (conf: WeftNetConf, node: NodeSubnets): Promise<BridgeInfo> => {
    const key = bridgeKey(conf, node);
    let p = bridges.get(key);
    if (!p) {
      p = setupBridge(conf, node);
      bridges.set(key, p);
      p.catch(() => bridges.delete(key));
    }
    return p;
  };

  // subnet.env is re-read only when its mtime or size changes (one stat per ADD instead of a read).
  const subnetCache = new Map<string, { key: string; node: NodeSubnets }>();
  const cachedSubnets = async (conf: WeftNetConf): Promise<NodeSubnets> => {
    let st;
    try {
      st = statSync(conf.subnetFile);
    } catch {
      return loadSubnets(conf); // reports the missing file
    }
    const key = `${st.mtimeMs}|${st.size}|${st.ino}|${conf.mtu}|${conf.ipMasq}`;
    const hit = subnetCache.get(conf.subnetFile);
    if (hit && hit.key === key) return hit.node;
    const node = await loadSubnets(conf);
    subnetCache.set(conf.subnetFile, { key, node });
    return node;
  };
  const madeDirs = new Set<string>();

  const stateFile = (conf: WeftNetConf, containerId: string, ifname: string) => join(conf.stateDir, conf.name, `${containerId}_${ifname}.json`);

  const deleteVeth = async (hostVeth: string, session = setupSession): Promise<void> => {
    // Teardowns run with continueOnError: a missing veth (its pod namespace is gone) then keeps
    // the teardown session's process alive instead of ending it.
    await hostApply(new Batch().deleteLink(hostVeth), session, session === teardownSession).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  };

  const scheduleTeardown = (hostVeth: string): Promise<void> => {
    const prev = teardowns.get(hostVeth) ?? Promise.resolve();
    // setImmediate: the DEL answer is written before any work for the teardown starts.
    const p = prev
      .then(() => new Promise((r) => setImmediate(r)))
      .then(() => deleteVeth(hostVeth, teardownSession))
      .catch((err) => log(`deleting ${hostVeth} failed: ${(err as Error).message}`))
      .finally(() => {
        if (teardowns.get(hostVeth) === p) teardowns.delete(hostVeth);
      });
    teardowns.set(hostVeth, p);
    return p;
  };

  async function add(call: CniCall): Promise<CniResult> {
    const conf = parseWeftNetConf(call.config);
    // What the runtime asks for is checked before anything is reserved or changed in the kernel.
    const ipRequests = requestedIps(call.env, call.config);
    const wantMac = requestedMac(call.env, call.config);
    const node = await cachedSubnets(conf);
    const { containerId, ifname, netns } = call.env;
    if (!existsSync(netns)) {
      throw new CniError(CNI_ERROR.netnsNotFound, `failed to open netns "${netns}": no such file or directory`);
    }
    const ipam = ipamFor(conf, node);
    const plan = ipam.plan(ipRequests);
    return containerLock.run(containerId, async () => {
      const hostVeth = hostVethName(containerId, ifname);
      await teardowns.get(hostVeth);
      const bridge = await ensureBridge(conf, node);
      const store = storeFor(conf);
      const undo: Array<() => Promise<unknown>> = [];
      try {
        const addrs: PodIpAllocation[] = await ipam.allocate({ containerId, ifname }, plan);
        undo.push(() => Promise.all(addrs.map((a) => store.release(a.ip, { owner: { containerId, ifname } }))));
        const hostMac = randomMac();
        // The pod interface gets its MAC when the veth is created (`peer ... address`), so the
        // result reports the address the interface really has.
        const podMac = wantMac ?? randomMac();
        const hostBatch = new Batch().addLink({
          type: "veth", name: hostVeth, mtu: node.mtu, mac: hostMac, master: conf.bridge, up: true,
          peer: { name: ifname, mtu: node.mtu, mac: podMac, netns },
        });
        if (conf.hairpinMode) hostBatch.setLink(hostVeth, { hairpin: true });
        const routes = podRoutes(conf, node);
        const gwOf = (family: 4 | 6) => addrs.find((a) => a.ip.family === family)?.gateway.address;
        const podBatch = new Batch();
        for (const a of addrs) podBatch.addAddress({ dev: ifname, address: a.address, ...(a.ip.family === 6 ? { noDad: true } : {}) });
        podBatch.setLink(ifname, { up: true });
        const resultRoutes: CniRoute[] = [...routes];
        if (conf.isDefaultGateway) {
          for (const a of addrs) resultRoutes.push({ dst: a.ip.family === 4 ? "0.0.0.0/0" : "::/0", gw: a.gateway.address });
        }
        for (const r of resultRoutes) {
          const family = r.dst.includes(":") ? 6 : 4;
          const gw = r.gw ?? gwOf(family);
          if (!gw) continue;
          if (addrs.some((a) => a.ip.family === family && formatCidr(a.subnet) === r.dst && r.gw === undefined)) continue;
          podBatch.addRoute({ dst: r.dst, via: gw, dev: ifname });
        }
        const session = pickSession();
        const stateDir = join(conf.stateDir, conf.name);
        if (!madeDirs.has(stateDir) || !existsSync(stateDir)) {
          mkdirSync(stateDir, { recursive: true, mode: 0o700 });
          madeDirs.add(stateDir);
        }
        // With a session, host side and pod side are one job: the session's ip enters the pod
        // itself (`netns exec`). Without, one `ip -batch` process per side.
        try {
          if (session) await session.apply(hostBatch, { next: { netns, batch: podBatch } });
          else await hostIp.apply(hostBatch);
        } catch (err) {
          bridges.delete(bridge.key);
          const first = err instanceof BatchError ? err.failures[0] : undefined;
          // The veth exists unless the first operation (link add, on the host) is what failed.
          const linkAddFailed = first !== undefined && first.netns === hostIp.netns && first.index === 0;
          if (!linkAddFailed) undo.push(() => deleteVeth(hostVeth));
          if (linkAddFailed && isExists(err)) {
            // Either the pod already has <ifname> or a stale host veth of this pair exists.
            await deleteVeth(hostVeth).catch(() => {});
            throw new CniError(CNI_ERROR.alreadyExists, `container veth name provided (${ifname}) already exists`, { details: `in ${netns}`, cause: err });
          }
          throw err;
        }
        if (!session) {
          undo.push(() => deleteVeth(hostVeth));
          await podIp(netns).apply(podBatch);
        }
        const state: AttachmentState = {
          containerId, ifname, netns, hostVeth, bridge: conf.bridge, addresses: addrs.map((a) => a.address), mtu: node.mtu, ipMasq: node.ipMasq,
        };
        const file = stateFile(conf, containerId, ifname);
        writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
        undo.push(async () => rmSync(file, { force: true }));

        const ours: CniInterface[] = [
          { name: conf.bridge, mac: bridge.mac },
          { name: hostVeth, mac: hostMac },
          { name: ifname, mac: podMac, sandbox: netns, mtu: node.mtu },
        ];
        const prev = call.prevResult;
        const base = prev?.interfaces?.length ?? 0;
        const ips: CniIpConfig[] = addrs.map((a) => ({ interface: base + 2, address: a.address, gateway: a.gateway.address }));
        return {
          cniVersion: call.cniVersion,
          interfaces: [...(prev?.interfaces ?? []), ...ours],
          ips: [...(prev?.ips ?? []), ...ips],
          routes: [...(prev?.routes ?? []), ...resultRoutes],
          dns: conf.dns ?? prev?.dns ?? {},
        };
      } catch (err) {
        for (const step of undo.reverse()) {
          await step().catch((e) => log(`rollback step failed: ${(e as Error).message}`));
        }
        throw err;
      }
    });
  }

  async function del(call: CniCall): Promise<void> {
    const conf = parseWeftNetConf(call.config);
    const { containerId, ifname } = call.env;
    await containerLock.run(containerId, async () => {
      const store = storeFor(conf);
      const who = { containerId, ifname };
      let held = await store.findByAttachment(who);
      if (held.length === 0) {
        // Not in our index: maybe written by another process (host-local, an older weft).
        await store.sync();
        held = await store.findByAttachment(who);
      }
      const exact = held.filter((r) => r.ifname === ifname);
      for (const r of exact.length > 0 ? exact : held) await store.release(r.ip, { owner: who });
      rmSync(stateFile(conf, containerId, ifname), { force: true });
      const p = scheduleTeardown(hostVethName(containerId, ifname));
      if (!asyncTeardown) await p;
    });
  }

  async function check(call: CniCall): Promise<void> {
    const conf = parseWeftNetConf(call.config);
    const prev = call.prevResult;
    if (!prev) throw new CniError(CNI_ERROR.invalidNetworkConfig, "invalid network config: \"prevResult\" is required for CHECK");
    const { containerId, ifname, netns } = call.env;
    const fail = (msg: string) => new CniError(CNI_ERROR.internal, msg);
    if (!existsSync(netns)) throw new CniError(CNI_ERROR.netnsNotFound, `failed to open netns "${netns}": no such file or directory`);
    const idx = (prev.interfaces ?? []).findIndex((i) => i.name === ifname && i.sandbox !== undefined && i.sandbox !== "");
    if (idx < 0) throw fail(`prevResult has no interface ${ifname} in a sandbox`);
    const want = (prev.ips ?? []).filter((ip) => ip.interface === idx);
    const store = storeFor(conf);
    let held = await store.findByAttachment({ containerId, ifname });
    if (held.length === 0) {
      await store.sync();
      held = await store.findByAttachment({ containerId, ifname });
    }
    for (const ip of want) {
      const addr = ip.address.split("/")[0]!;
      if (!held.some((r) => r.ip.address === parseIp(addr).address)) throw fail(`weft: address ${ip.address} is not reserved for ${containerId}/${ifname}`);
    }
    const pod = podIp(netns);
    const podLink = await pod.link.get(ifname);
    if (!podLink) throw fail(`interface ${ifname} does not exist in ${netns}`);
    if (podLink.kind !== "veth") throw fail(`interface ${ifname} in ${netns} is a ${podLink.kind ?? "device"}, not a veth`);
    const have = new Set((await pod.address.list({ dev: ifname })).map((a) => a.cidr));
    for (const ip of want) {
      const [a, len] = ip.address.split("/");
      if (!have.has(`${parseIp(a!).address}/${len}`)) throw fail(`Failed to match addr ${ip.address} on interface ${ifname}`);
    }
    const routes = await pod.route.list();
    const norm = (d: string) => (d === "default" ? "default" : d.includes("/") ? d : `${d}/${d.includes(":") ? 128 : 32}`);
    for (const r of prev.routes ?? []) {
      const family = r.dst.includes(":") ? 6 : 4;
      const dst = r.dst === "0.0.0.0/0" || r.dst === "::/0" ? "default" : r.dst;
      const gw = r.gw ?? want.find((ip) => (ip.address.includes(":") ? 6 : 4) === family)?.gateway;
      const ok = routes.some((k) => norm(k.dst) === dst && (gw === undefined || k.via === undefined || parseIp(k.via).address === parseIp(gw).address));
      if (!ok) throw fail(`Expected route ${r.dst}${gw ? ` via ${gw}` : ""} not found in the routing table of ${netns}`);
    }
    const hostVeth = hostVethName(containerId, ifname);
    const hostLink = await hostIp.link.get(hostVeth);
    if (!hostLink) throw fail(`host veth ${hostVeth} of ${containerId}/${ifname} does not exist`);
    if (hostLink.master !== conf.bridge) throw fail(`host veth ${hostVeth} is not attached to bridge ${conf.bridge}`);
  }

  async function status(call: CniCall): Promise<void> {
    const conf = parseWeftNetConf(call.config);
    try {
      await loadSubnets(conf);
    } catch (err) {
      throw new CniError(CNI_ERROR.pluginNotAvailable, `weft is not ready: ${(err as Error).message}`, { cause: err });
    }
  }

  async function gc(call: CniGcCall): Promise<void> {
    const conf = parseWeftNetConf(call.config);
    const valid = new Set(call.validAttachments.map((a) => `${a.containerID.trim()}\0${a.ifname}`));
    const store = storeFor(conf);
    await store.sync();
    const errors: string[] = [];
    const dir = join(conf.stateDir, conf.name);
    if (existsSync(dir)) {
      for (const f of readdirSync(dir)) {
        const m = /^(.*)_([^_]+)\.json$/.exec(f);
        if (!m || valid.has(`${m[1]}\0${m[2]}`)) continue;
        const file = join(dir, f);
        let state: Partial<AttachmentState> | undefined;
        try {
          state = JSON.parse(readFileSync(file, "utf8")) as Partial<AttachmentState>;
        } catch (err) {
          log(`GC: cannot read ${file} (${(err as Error).message}); removing it without touching links`);
        }
        if (state && typeof state.hostVeth === "string") {
          const st = state as AttachmentState;
          try {
            await containerLock.run(m[1]!, () => collectVeth(st, m[1]!, m[2]!));
          } catch (err) {
            // Keep the state file: the next GC tries again.
            errors.push(`delete ${st.hostVeth}: ${(err as Error).message}`);
            continue;
          }
        }
        rmSync(file, { force: true });
      }
    }
    // Addresses last: none is handed out again while a stale pod interface still carries it.
    for (const r of await store.list()) {
      if (r.containerId === undefined) continue;
      const id = r.containerId.trim();
      const keep = r.ifname === undefined ? [...valid].some((k) => k.startsWith(`${id}\0`)) : valid.has(`${id}\0${r.ifname}`);
      if (keep) continue;
      await store.release(r.ip).catch((err) => errors.push(`release ${r.ip.address}: ${(err as Error).message}`));
    }
    if (errors.length > 0) throw new CniError(CNI_ERROR.ioFailure, `GC could not remove everything stale: ${errors.join("; ")}`);
  }

  /**
   * GC of one collected attachment's host veth (deleting it also removes the pod end). Only a link
   * Weft made is deleted: a veth with the state file's name that is a port of the attachment's
   * bridge or carries the name Weft derives for (containerID, ifname).
   */
  async function collectVeth(state: AttachmentState, containerId: string, ifname: string): Promise<void> {
    const name = state.hostVeth;
    await teardowns.get(name);
    const link = await hostIp.link.get(name);
    if (!link) return;
    const ours = link.kind === "veth" && (link.master === (state.bridge ?? "") || name === hostVethName(containerId, ifname));
    if (!ours) {
      log(`GC: ${name} of ${containerId}/${ifname} is not a Weft veth (kind ${link.kind ?? "none"}, master ${link.master ?? "none"}); left alone`);
      return;
    }
    await deleteVeth(name);
  }

  const settled = async () => {
    while (teardowns.size > 0) await Promise.allSettled([...teardowns.values()]);
  };

  return {
    add,
    del,
    check,
    status,
    gc,
    settled,
    async close() {
      await settled();
      for (const s of setupSessions) await s.close();
      await teardownSession?.close();
      for (const s of stores.values()) await s.close();
      stores.clear();
    },
  };
}
