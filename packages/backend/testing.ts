/**
 * Test helpers for code that drives backends (the node agent): {@linkcode FakeBackend} and
 * {@linkcode FakeNetwork}, which acquire the lease like a real backend and record lease events
 * without touching the kernel; {@linkcode MemoryEntriesKernel}, an in-memory kernel for
 * testing networks built on `RouteNetwork`; and {@linkcode sampleNetConf}, the usual backend test
 * config (10.244.0.0/16 in /24 subnets).
 *
 * @example
 * ```ts
 * import { BackendRegistry } from "@weft/backend";
 * import { FakeBackend } from "@weft/backend/testing";
 * const registry = new BackendRegistry({ vxlan: () => new FakeBackend({ type: "vxlan" }) });
 * ```
 *
 * @module
 */
export * from "./fake_backend.ts";
export * from "./memory_entries_kernel.ts";
export * from "./sample_net_conf.ts";
