/**
 * Test helpers shared by Weft's projects. Private: never a dependency of a published package.
 *
 * @example
 * ```ts
 * import { test } from "uvu";
 * import { kernelTest, withNetns } from "@weft/testutils";
 * const it = kernelTest(test, { needs: ["nft"] });
 * it("creates a table", () => withNetns("nft", async (ns) => { ... }));
 * ```
 */
export * from "./requirements.ts";
export * from "./netns.ts";
export * from "./unique_name.ts";
export * from "./underlay.ts";
export * from "./test_host.ts";
