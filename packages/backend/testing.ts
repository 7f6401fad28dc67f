/**
 * Test helpers for code that drives backends (the node agent): {@linkcode FakeBackend} and
 * {@linkcode FakeNetwork}, which acquire the lease like a real backend and record lease events
 * without touching the kernel, and {@linkcode MemoryEntriesKernel}, an in-memory kernel for
 * testing networks built on `RouteNetwork`.
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
