import { parseCniArgs } from "./cni_args.ts";
import { CniError } from "./cni_error.ts";
import { CNI_ERROR } from "./constants.ts";
import type { CniCommand, CniEnvironment, CniRequestEnv } from "./types.ts";

const COMMANDS: readonly CniCommand[] = ["ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"];

/** The variables each command requires (SPEC.md section 2; CNI_PATH is optional: Weft delegates nothing). */
const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"],
  DEL: ["CNI_CONTAINERID", "CNI_IFNAME"],
  CHECK: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"],
  VERSION: [],
  STATUS: [],
  GC: [],
};

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Throws code 4 unless `id` is a valid container ID (libcni's `ValidateContainerID`). */
export function validateContainerId(id: string): void {
  if (id === "") throw new CniError(CNI_ERROR.unknownContainer, "missing containerID");
  if (!CONTAINER_ID.test(id)) {
    throw new CniError(CNI_ERROR.invalidEnvironment, "invalid characters in containerID", { details: id });
  }
}

/** Throws code 4 unless `name` is a valid interface name (libcni's `ValidateInterfaceName`). */
export function validateIfname(name: string): void {
  if (name === "") throw new CniError(CNI_ERROR.invalidEnvironment, "interface name is empty");
  if (Buffer.byteLength(name) > 15) {
    throw new CniError(CNI_ERROR.invalidEnvironment, "interface name is too long", {
      details: "interface name should be less than 16 characters",
    });
  }
  if (name === "." || name === "..") {
    throw new CniError(CNI_ERROR.invalidEnvironment, "interface name is . or ..", { details: name });
  }
  if (/[/:\s]/.test(name)) {
    throw new CniError(CNI_ERROR.invalidEnvironment, "interface name contains / or : or whitespace characters", {
      details: name,
    });
  }
}

/**
 * Reads and validates the CNI environment of one invocation. Errors are code 4 (invalid
 * environment variables) and name the variables: all missing ones at once, as libcni's skel does.
 * `CNI_COMMAND` must be set (the dispatcher handles the unset case before calling this).
 */
export function readCniEnv(env: CniEnvironment): CniRequestEnv {
  const raw = env.CNI_COMMAND ?? "";
  const command = raw as CniCommand;
  if (!COMMANDS.includes(command)) throw new CniError(CNI_ERROR.invalidEnvironment, `unknown CNI_COMMAND: ${raw}`);
  const missing = REQUIRED[command].filter((k) => (env[k] ?? "") === "");
  if (missing.length > 0) {
    throw new CniError(CNI_ERROR.invalidEnvironment, `required env variables [${missing.join(",")}] missing`);
  }
  const containerId = env.CNI_CONTAINERID ?? "";
  const ifname = env.CNI_IFNAME ?? "";
  if (command === "ADD" || command === "DEL" || command === "CHECK") {
    validateContainerId(containerId);
    validateIfname(ifname);
  }
  return {
    command,
    containerId,
    netns: env.CNI_NETNS ?? "",
    ifname,
    args: command === "VERSION" ? [] : parseCniArgs(env.CNI_ARGS),
    path: (env.CNI_PATH ?? "").split(":").filter((p) => p !== ""),
  };
}
