import { readCniEnv } from "./cni_env.ts";
import { CniError } from "./cni_error.ts";
import { convertResult } from "./cni_result.ts";
import { checkCommandVersion, checkVersion } from "./cni_version.ts";
import { CNI_ERROR, IMPLEMENTED_VERSION, SUPPORTED_VERSIONS } from "./constants.ts";
import type { CniAttachment, CniRequest, CniRequestEnv, CniResponse, CniResult } from "./types.ts";

/** One validated call handed to a {@linkcode CniPlugin}. */
export interface CniCall {
  env: CniRequestEnv;
  /** The network config as decoded from stdin (plugin-specific keys included). */
  config: Record<string, unknown>;
  /** The config's `cniVersion` (validated). */
  cniVersion: string;
  /** `prevResult`, when the runtime sent one. */
  prevResult: CniResult | undefined;
}

/** A GC call: the call plus `cni.dev/valid-attachments`. */
export interface CniGcCall extends CniCall {
  validAttachments: CniAttachment[];
}

/** What a plugin implements; the dispatcher does the spec's env/config/version/result work around it. */
export interface CniPlugin {
  add(call: CniCall): Promise<CniResult>;
  del(call: CniCall): Promise<void>;
  check(call: CniCall): Promise<void>;
  status(call: CniCall): Promise<void>;
  gc(call: CniGcCall): Promise<void>;
}

/** Options for {@linkcode dispatch}. */
export interface DispatchOptions {
  /** Printed on stderr when CNI_COMMAND is unset; @default "CNI weft plugin" */
  about?: string;
  /** Receives internal errors (code 100) for logging; @default none */
  onInternalError?: (err: unknown, request: CniRequest) => void;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function decodeConfig(stdin: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(CNI_ERROR.decodingFailure, `error unmarshalling network config: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new CniError(CNI_ERROR.decodingFailure, "error unmarshalling network config: not a JSON object");
  }
  return value as Record<string, unknown>;
}

function guessVersion(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    if (typeof v === "string" && SUPPORTED_VERSIONS.includes(v)) return v;
  } catch {
    // fall through
  }
  return IMPLEMENTED_VERSION;
}

function validAttachments(config: Record<string, unknown>): CniAttachment[] {
  const raw = config["cni.dev/valid-attachments"] ?? config["cni.dev/attachments"] ?? [];
  if (!Array.isArray(raw)) throw new CniError(CNI_ERROR.invalidNetworkConfig, "cni.dev/valid-attachments must be a list");
  return raw.map((a, i) => {
    const o = a as Partial<CniAttachment> | null;
    if (!o || typeof o.containerID !== "string" || typeof o.ifname !== "string") {
      throw new CniError(CNI_ERROR.invalidNetworkConfig, `cni.dev/valid-attachments[${i}] needs string containerID and ifname`);
    }
    return { containerID: o.containerID, ifname: o.ifname };
  });
}

const ok = (stdout = ""): CniResponse => ({ exitCode: 0, stdout, stderr: "" });

/**
 * Runs one CNI invocation against `plugin`: validates the environment and the config the way the
 * spec and libcni's skel do, calls the operation, and renders stdout (result or error JSON) and the
 * exit code. Never throws: every failure becomes the spec's error JSON with a non-zero exit.
 */
export async function dispatch(request: CniRequest, plugin: CniPlugin, options: DispatchOptions = {}): Promise<CniResponse> {
  const command = request.env.CNI_COMMAND;
  if (command === undefined || command === "") {
    return { exitCode: 0, stdout: "", stderr: `${options.about ?? "CNI weft plugin"}\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(", ")}\n` };
  }
  let version = guessVersion(request.stdin);
  try {
    if (command === "VERSION") {
      let requested = IMPLEMENTED_VERSION;
      if (request.stdin.trim() !== "") {
        const v = decodeConfig(request.stdin).cniVersion;
        if (typeof v === "string" && v !== "") requested = v;
      }
      return ok(JSON.stringify({ cniVersion: requested, supportedVersions: [...SUPPORTED_VERSIONS] }));
    }
    const env = readCniEnv(request.env);
    const config = decodeConfig(request.stdin);
    version = checkVersion(typeof config.cniVersion === "string" ? config.cniVersion : undefined);
    checkCommandVersion(env.command, version);
    if (typeof config.name !== "string" || !NAME.test(config.name)) {
      throw new CniError(CNI_ERROR.invalidNetworkConfig, config.name === undefined ? "missing network name" : `invalid network name "${String(config.name)}"`);
    }
    const prev = config.prevResult;
    if (prev !== undefined && (prev === null || typeof prev !== "object")) {
      throw new CniError(CNI_ERROR.decodingFailure, "prevResult must be a JSON object");
    }
    const call: CniCall = { env, config, cniVersion: version, prevResult: prev as CniResult | undefined };
    switch (env.command) {
      case "ADD":
        return ok(JSON.stringify(convertResult(await plugin.add(call), version)));
      case "DEL":
        await plugin.del(call);
        return ok();
      case "CHECK":
        await plugin.check(call);
        return ok();
      case "STATUS":
        await plugin.status(call);
        return ok();
      case "GC":
        await plugin.gc({ ...call, validAttachments: validAttachments(config) });
        return ok();
      default:
        throw new CniError(CNI_ERROR.invalidEnvironment, `unknown CNI_COMMAND: ${command}`);
    }
  } catch (err) {
    if (err instanceof CniError) return { exitCode: 1, stdout: JSON.stringify(err.toJSON(version)), stderr: "" };
    options.onInternalError?.(err, request);
    const e = new CniError(CNI_ERROR.internal, (err as Error)?.message ?? String(err));
    return { exitCode: 1, stdout: JSON.stringify(e.toJSON(version)), stderr: `${(err as Error)?.stack ?? err}\n` };
  }
}
