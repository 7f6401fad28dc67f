import { chmodSync, copyFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderConflist, type RenderConflistOptions } from "./conflist.ts";

/** Options for {@linkcode installCni}. */
export interface InstallCniOptions extends RenderConflistOptions {
  /** Where the runtime looks for plugins; @default "/opt/cni/bin" */
  binDir?: string;
  /** Where the runtime looks for configs; @default "/etc/cni/net.d" */
  confDir?: string;
  /** The conflist file name; @default "10-weft.conflist" */
  confName?: string;
}

/** What {@linkcode installCni} wrote. */
export interface InstallCniResult {
  binary: string;
  conflist: string;
}

/**
 * The DaemonSet init container's job: copies the forwarder binary to `<binDir>/weft` and writes
 * `<confDir>/10-weft.conflist`. Both are replaced atomically (temp file + rename), so a runtime
 * never runs a half-copied binary (no "text file busy") nor reads a half-written config.
 */
export function installCni(binary: string, options: InstallCniOptions = {}): InstallCniResult {
  const binDir = options.binDir ?? "/opt/cni/bin";
  const confDir = options.confDir ?? "/etc/cni/net.d";
  mkdirSync(binDir, { recursive: true, mode: 0o755 });
  mkdirSync(confDir, { recursive: true, mode: 0o755 });
  const target = join(binDir, "weft");
  const tmpBin = `${target}.tmp-${process.pid}`;
  copyFileSync(binary, tmpBin);
  chmodSync(tmpBin, 0o755);
  renameSync(tmpBin, target);
  const conflist = join(confDir, options.confName ?? "10-weft.conflist");
  const tmpConf = `${conflist}.tmp-${process.pid}`;
  writeFileSync(tmpConf, renderConflist(options), { mode: 0o644 });
  renameSync(tmpConf, conflist);
  return { binary: target, conflist };
}
