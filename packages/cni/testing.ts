/**
 * Test helpers for CNI plugins: every spec version, a runtime-like executor for plugin binaries,
 * and a recording plugin for dispatcher and server tests.
 *
 * @example
 * ```ts
 * import { ALL_SPEC_VERSIONS, execPlugin } from "@weft/cni/testing";
 * for (const v of ALL_SPEC_VERSIONS) {
 *   const r = await execPlugin("/opt/cni/bin/weft", { env: { CNI_COMMAND: "VERSION" }, stdin: `{"cniVersion":"${v}"}` });
 * }
 * ```
 */
import { spawn } from "node:child_process";
import { SUPPORTED_VERSIONS } from "./constants.ts";
import type { CniCall, CniGcCall, CniPlugin } from "./dispatch.ts";
import type { CniRequest, CniResponse, CniResult } from "./types.ts";

/** Every spec version Weft supports, for table-driven tests (plugins' `AllSpecVersions`). */
export const ALL_SPEC_VERSIONS: readonly string[] = SUPPORTED_VERSIONS;

/** Options for {@linkcode execPlugin}. */
export interface ExecPluginOptions {
  /** Kill the plugin and reject after this long; @default 30000 */
  timeoutMs?: number;
}

/**
 * Runs a plugin binary exactly as a runtime does: a fresh environment holding only `request.env`
 * (plus PATH), the config on stdin, stdout/stderr captured, the exit code returned.
 */
export function execPlugin(binary: string, request: CniRequest, options: ExecPluginOptions = {}): Promise<CniResponse> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...request.env }, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${binary} did not finish within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(request.stdin);
  });
}

/** A plugin that records its calls and answers a fixed result (or throws `fail`). */
export class RecordingPlugin implements CniPlugin {
  readonly calls: Array<{ op: string; call: CniCall }> = [];
  result: CniResult = { cniVersion: "1.1.0", interfaces: [{ name: "eth0", sandbox: "/run/netns/x" }], ips: [{ address: "10.0.0.2/24", interface: 0 }] };
  fail: Error | undefined;
  async #record(op: string, call: CniCall) {
    this.calls.push({ op, call });
    if (this.fail) throw this.fail;
  }
  async add(call: CniCall): Promise<CniResult> {
    await this.#record("add", call);
    return this.result;
  }
  async del(call: CniCall): Promise<void> {
    await this.#record("del", call);
  }
  async check(call: CniCall): Promise<void> {
    await this.#record("check", call);
  }
  async status(call: CniCall): Promise<void> {
    await this.#record("status", call);
  }
  async gc(call: CniGcCall): Promise<void> {
    await this.#record("gc", call);
  }
}
