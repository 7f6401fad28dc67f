import { createNetns, deleteNetns, sh } from "./netns.ts";
import { uniqueName } from "./unique_name.ts";

/** One node of {@linkcode withUnderlay}: a namespace and its interface on the shared underlay. */
export interface UnderlayNode {
  /** The node's network namespace (loopback up). */
  readonly netns: string;
  /** The node's underlay interface inside `netns`, up (a veth whose peer is a port of the underlay bridge). */
  readonly dev: string;
  /** The ifindex of `dev` inside `netns`. */
  readonly index: number;
  /** The node's IPv4 address on the underlay, without prefix: `198.18.0.<n>` (/24) for the n-th node, from 1. */
  readonly address: string;
  /** The node's IPv6 address (`fd00:18::<n>`, /64, no DAD) when {@linkcode WithUnderlayOptions.ipv6} is set. */
  readonly address6: string | undefined;
}

/** Options for {@linkcode withUnderlay}. */
export interface WithUnderlayOptions {
  /** How many node namespaces to join, 2 to 250; @default 2 */
  nodes?: number;
  /** Also give every node an IPv6 address on the underlay; @default false */
  ipv6?: boolean;
}

/**
 * Runs `fn` with `nodes` fresh node namespaces that share one L2 underlay (198.18.0.0/24, and
 * fd00:18::/64 with `ipv6`): each node's veth is plugged into a bridge in a separate hub namespace,
 * so every node reaches every other directly, like hosts on one switch. All namespaces, and with
 * them every link, route and nft table inside, are deleted afterwards, also when `fn` throws.
 *
 * @example
 * ```ts
 * await withUnderlay("hg", async ([a, b]) => {
 *   await sh(["ip", "netns", "exec", a.netns, "ping", "-c", "1", b.address]);
 * });
 * ```
 */
export async function withUnderlay<T>(
  prefix: string,
  fn: (nodes: readonly [UnderlayNode, UnderlayNode, ...UnderlayNode[]]) => Promise<T>,
  options: WithUnderlayOptions = {},
): Promise<T> {
  const count = options.nodes ?? 2;
  if (!Number.isInteger(count) || count < 2 || count > 250) throw new RangeError(`withUnderlay: nodes must be an integer from 2 to 250, got ${count}`);
  const made: string[] = [];
  try {
    const hub = await createNetns(`${prefix}h`);
    made.push(hub);
    const bridge = uniqueName("ulbr");
    await sh(["ip", "-n", hub, "link", "add", bridge, "type", "bridge"]);
    await sh(["ip", "-n", hub, "link", "set", bridge, "up"]);
    const nodes: UnderlayNode[] = [];
    for (let n = 1; n <= count; n++) {
      const netns = await createNetns(`${prefix}${n}`);
      made.push(netns);
      const dev = uniqueName("ul");
      const port = uniqueName("ulp");
      await sh(["ip", "-n", hub, "link", "add", port, "type", "veth", "peer", "name", dev, "netns", netns]);
      await sh(["ip", "-n", hub, "link", "set", port, "master", bridge, "up"]);
      const address = `198.18.0.${n}`;
      const address6 = options.ipv6 ? `fd00:18::${n}` : undefined;
      await sh(["ip", "-n", netns, "addr", "add", `${address}/24`, "dev", dev]);
      if (address6 !== undefined) await sh(["ip", "-n", netns, "-6", "addr", "add", `${address6}/64`, "dev", dev, "nodad"]);
      await sh(["ip", "-n", netns, "link", "set", dev, "up"]);
      const index = Number(JSON.parse(await sh(["ip", "-n", netns, "-j", "link", "show", dev]))[0].ifindex);
      nodes.push({ netns, dev, index, address, address6 });
    }
    return await fn(nodes as unknown as readonly [UnderlayNode, UnderlayNode, ...UnderlayNode[]]);
  } finally {
    for (const ns of made.reverse()) await deleteNetns(ns);
  }
}
