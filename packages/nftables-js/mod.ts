/**
 * nftables from TypeScript, modelled on kubernetes-sigs/knftables: typed objects, transactions
 * applied atomically with one `nft -f -` run (optionally inside a network namespace), listing a
 * table back into the same objects, and errors sorted into a few kinds. A semantic in-memory fake
 * for unit tests lives in `nftables-js/testing`.
 *
 * @example
 * ```ts
 * import { createNftables, isNotFound } from "nftables-js";
 *
 * const nft = createNftables({ family: "ip", table: "demo", netns: "blue" });
 * const tx = nft.newTransaction()
 *   .add({ kind: "table", comment: "managed by demo" })
 *   .add({ kind: "chain", name: "input", type: "filter", hook: "input", priority: 0 })
 *   .add({ kind: "set", name: "blocked", type: "ipv4_addr", flags: ["timeout"], timeoutSeconds: 3600 })
 *   .add({ kind: "rule", chain: "input", rule: "ip saddr @blocked drop", comment: "blocklist" })
 *   .add({ kind: "element", set: "blocked", key: ["192.0.2.7"] });
 * await nft.run(tx);
 * const { rules } = await nft.list();
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./errors.ts";
export * from "./transaction.ts";
export * from "./nftables.ts";
