/**
 * Reading and atomically writing the subnet.env file (flannel: pkg/subnet/writefile_other.go, renameio).
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { formatSubnetEnv, parseSubnetEnv } from "./subnet_env.ts";
import type { ParseSubnetEnvOptions } from "./subnet_env.ts";
import type { ParsedSubnetEnv, SubnetEnv } from "./types.ts";

/** flannel's default path of the file. */
export const DEFAULT_SUBNET_ENV_PATH = "/run/flannel/subnet.env";

/** Options of the {@linkcode SubnetEnvNotFoundError} constructor. */
export interface SubnetEnvNotFoundErrorOptions {
  /** The underlying `ENOENT` error. @default undefined */
  cause?: unknown;
}

/**
 * The subnet.env file does not exist (yet): the node agent has not written it. A CNI plugin should
 * report this as a retryable error; {@linkcode readSubnetEnv} throws it.
 */
export class SubnetEnvNotFoundError extends Error {
  /** Always `"ENOENT"`, for callers that branch on error codes. */
  readonly code = "ENOENT" as const;
  /** The path that was read. */
  readonly path: string;

  constructor(path: string, options: SubnetEnvNotFoundErrorOptions = {}) {
    super(`Cannot read subnet.env: ${path} does not exist`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SubnetEnvNotFoundError";
    this.path = path;
  }
}

/** Options of {@linkcode writeSubnetEnv}. */
export interface WriteSubnetEnvOptions {
  /** Mode of the file, applied regardless of the umask. @default 0o644 */
  mode?: number;
  /** Mode of directories created for the file (subject to the umask, like `mkdir -p`). @default 0o755 */
  dirMode?: number;
}

/**
 * Writes subnet.env (see {@linkcode formatSubnetEnv}) atomically: the text goes to a temporary file in
 * the same directory, which is fsynced, given its mode and renamed over `path`; the directory is then
 * fsynced too. Readers see either the old file or the complete new one, never a partial file. Missing
 * directories are created.
 *
 * @throws {TypeError} or {RangeError} from {@linkcode formatSubnetEnv}; file-system errors as thrown by Node.
 * @example
 * ```ts
 * import { writeSubnetEnv } from "@weft/netconf";
 * import { parseCidr } from "@weft/ipam";
 * await writeSubnetEnv("/run/flannel/subnet.env", {
 *   network: parseCidr("10.244.0.0/16"), subnet: parseCidr("10.244.3.0/24"), mtu: 1450, ipMasq: true,
 * });
 * ```
 */
export async function writeSubnetEnv(path: string, env: SubnetEnv, options: WriteSubnetEnvOptions = {}): Promise<void> {
  const text = formatSubnetEnv(env); // validate before touching the file system
  const mode = options.mode ?? 0o644;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: options.dirMode ?? 0o755 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let renamed = false;
  try {
    const handle = await open(tmp, "wx", mode);
    try {
      await handle.writeFile(text, "utf8");
      await handle.chmod(mode); // the umask applied at creation; flannel's file is 0644 regardless
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    renamed = true;
  } finally {
    if (!renamed) await rm(tmp, { force: true });
  }
  // Make the rename itself durable.
  const dirHandle = await open(dir, "r").catch(() => undefined);
  if (dirHandle) {
    try {
      await dirHandle.sync().catch(() => undefined);
    } finally {
      await dirHandle.close();
    }
  }
}

/** Options of {@linkcode readSubnetEnv}. */
export interface ReadSubnetEnvOptions extends ParseSubnetEnvOptions {}

/**
 * Reads and parses subnet.env (see {@linkcode parseSubnetEnv}).
 *
 * @throws {SubnetEnvNotFoundError} when the file does not exist; other file-system errors as thrown by Node.
 * @example
 * ```ts
 * import { readSubnetEnv, SubnetEnvNotFoundError } from "@weft/netconf";
 * try {
 *   const env = await readSubnetEnv("/run/flannel/subnet.env");
 *   console.log(env.subnet, env.mtu);
 * } catch (err) {
 *   if (err instanceof SubnetEnvNotFoundError) console.log("not written yet, retry later");
 * }
 * ```
 */
export async function readSubnetEnv(path: string, options: ReadSubnetEnvOptions = {}): Promise<ParsedSubnetEnv> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new SubnetEnvNotFoundError(path, { cause: err });
    throw err;
  }
  return parseSubnetEnv(text, options);
}
