/**
 * Test helpers for code that uses nftables-js: {@linkcode FakeNftables}, an in-memory
 * implementation of the `Nftables` interface that applies transactions to a copy and commits only on
 * success, rejects what nft would reject, and dumps its state as nft text.
 *
 * @example
 * ```ts
 * import { FakeNftables } from "nftables-js/testing";
 * const nft = new FakeNftables({ family: "ip", table: "demo" });
 * await nft.run(nft.newTransaction().add({ kind: "table" }).add({ kind: "chain", name: "c" }));
 * nft.dump(); // "add table ip demo\nadd chain ip demo c\n"
 * ```
 *
 * @module
 */
export * from "./fake_nftables.ts";
