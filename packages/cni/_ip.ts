// The one seam to iproute2 (and nsenter/sysctl) this package uses. Kept private and minimal:
// the pod path needs exactly two `ip -batch` runs per ADD, in two namespaces, with argv built here.
import { execFile } from "node:child_process";
import type { CniExec } from "./types.ts";

export type Exec = CniExec;

export const defaultExec: Exec = (file, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(file, args as string[], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const msg = String(stderr).trim() || err.message;
        reject(Object.assign(new Error(`${file} ${args.join(" ")}: ${msg}`, { cause: err }), { stderr: String(stderr) }));
      } else resolve(String(stdout));
    });
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });

const NETNS_DIRS = ["/run/netns/", "/var/run/netns/"];

/** A namespace given by name, by path, or undefined for the process's own. */
export type Netns = string | undefined;

/** The filesystem path of a namespace given by name or path. */
export function netnsPath(netns: string): string {
  return netns.includes("/") ? netns : `/run/netns/${netns}`;
}

/** argv to run `ip <args>` inside `netns`: `ip -n NAME` for /run/netns entries, nsenter otherwise. */
export function ipArgv(netns: Netns, args: readonly string[]): [string, string[]] {
  if (netns === undefined) return ["ip", [...args]];
  if (!netns.includes("/")) return ["ip", ["-n", netns, ...args]];
  for (const dir of NETNS_DIRS) {
    const name = netns.slice(dir.length);
    if (netns.startsWith(dir) && name !== "" && !name.includes("/")) return ["ip", ["-n", name, ...args]];
  }
  return ["nsenter", [`--net=${netns}`, "ip", ...args]];
}

/** argv to run any program inside `netns` (for sysctl). */
export function inNetnsArgv(netns: Netns, file: string, args: readonly string[]): [string, string[]] {
  if (netns === undefined) return [file, [...args]];
  return ["nsenter", [`--net=${netnsPath(netns)}`, file, ...args]];
}

/** True when an iproute2 error means "already exists". */
export function isExists(err: unknown): boolean {
  return /File exists|already exists/i.test(String((err as Error)?.message ?? err));
}

/** True when an iproute2 error means "not found". */
export function isNotFound(err: unknown): boolean {
  return /Cannot find device|does not exist|No such device|No such file|not found|Invalid netns/i.test(String((err as Error)?.message ?? err));
}

/** Runs `ip -batch -` with `lines` in `netns` (`-force` off: the first failing line stops it). */
export async function ipBatch(exec: Exec, netns: Netns, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  const [file, argv] = ipArgv(netns, ["-batch", "-"]);
  await exec(file, argv, lines.join("\n") + "\n");
}

/** Runs `ip -j <args>` in `netns` and parses the JSON (an empty answer is []). */
export async function ipJson<T>(exec: Exec, netns: Netns, args: readonly string[]): Promise<T[]> {
  const [file, argv] = ipArgv(netns, ["-j", ...args]);
  const out = (await exec(file, argv)).trim();
  return out === "" ? [] : (JSON.parse(out) as T[]);
}
