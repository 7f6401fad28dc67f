import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNetns, deleteNetns } from "./netns.ts";

/** A throwaway node for CNI-style tests, made by {@linkcode createTestHost}. */
export interface TestHost {
  /** The "host" network namespace (`<prefix>h…`), where the plugin would run. */
  readonly host: string;
  /** A fresh temporary directory (`weft-<prefix>-…`) holding the node's files. */
  readonly dir: string;
  /** The pod namespaces made by {@linkcode TestHost.pod} so far. */
  readonly pods: string[];
  /** Makes one more pod namespace (`<prefix>p…`), deleted by `cleanup()`. */
  pod(): Promise<string>;
  /** Deletes the pod namespaces, the host namespace and the directory. */
  cleanup(): Promise<void>;
}

/** Options for {@linkcode createTestHost}. */
export interface CreateTestHostOptions {
  /** Files to write into the directory first, by name relative to it (e.g. `{ "subnet.env": "…" }`); @default {} */
  files?: Record<string, string>;
}

/**
 * Makes a throwaway node: a temporary directory (with `options.files` written into it), a host
 * namespace and, on demand, pod namespaces. Call `cleanup()` in a `finally`; if making the node
 * fails halfway, what was made is removed before the error propagates.
 *
 * @example
 * ```ts
 * const node = await createTestHost("cni", { files: { "subnet.env": "FLANNEL_NETWORK=10.244.0.0/16\n" } });
 * try {
 *   const pod = await node.pod();
 *   // run the plugin for `pod` with its files under node.dir
 * } finally {
 *   await node.cleanup();
 * }
 * ```
 */
export async function createTestHost(prefix: string, options: CreateTestHostOptions = {}): Promise<TestHost> {
  const dir = mkdtempSync(join(tmpdir(), `weft-${prefix}-`));
  let host: string;
  try {
    for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
    host = await createNetns(`${prefix}h`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const pods: string[] = [];
  return {
    host,
    dir,
    pods,
    async pod() {
      const ns = await createNetns(`${prefix}p`);
      pods.push(ns);
      return ns;
    },
    async cleanup() {
      for (const p of pods) await deleteNetns(p);
      await deleteNetns(host);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
