// The Node entry's commands. main.ts only maps argv to these.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_CNI_SOCKET, createCniServer, createPodNetwork, dispatch, installCni, type CniResponse } from "@weft/cni";

/** The built forwarder next to this file (dist/) or in dist/ below it (source checkout). */
export function forwarderPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, "weft-cni");
  return existsSync(beside) ? beside : join(here, "dist", "weft-cni");
}

/** `install --bin-dir D --conf-dir D [--binary F] [--name N] [--cni-version V] [--socket P]` */
export function runInstall(argv: string[]): string {
  const { values } = parseArgs({
    args: argv,
    options: {
      "bin-dir": { type: "string", default: "/opt/cni/bin" },
      "conf-dir": { type: "string", default: "/etc/cni/net.d" },
      binary: { type: "string" },
      name: { type: "string" },
      "cni-version": { type: "string" },
      socket: { type: "string" },
    },
  });
  const r = installCni(values.binary ?? forwarderPath(), {
    binDir: values["bin-dir"],
    confDir: values["conf-dir"],
    name: values.name,
    cniVersion: values["cni-version"],
    weft: values.socket ? { weftSocketPath: values.socket } : {},
  });
  return `installed ${r.binary} and ${r.conflist}\n`;
}

/** `serve [--socket P] [--host-netns NS]`: the CNI server alone (weftd hosts the same server). */
export async function runServe(argv: string[], signal: AbortSignal): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { socket: { type: "string" }, "host-netns": { type: "string" } } });
  const socketPath = values.socket ?? process.env.WEFT_CNI_SOCKET ?? DEFAULT_CNI_SOCKET;
  const hostNetns = values["host-netns"] ?? process.env.WEFT_CNI_HOST_NETNS;
  const server = createCniServer({
    socketPath,
    plugin: createPodNetwork({ hostNetns, log: (m) => process.stderr.write(`weft-cni: ${m}\n`) }),
    onInternalError: (err) => process.stderr.write(`weft-cni: internal error: ${(err as Error)?.stack ?? err}\n`),
  });
  await server.start();
  process.stderr.write(`weft-cni: serving on ${socketPath}\n`);
  await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  await server.stop();
}

/** One CNI invocation in-process: what the forwarder + server do, without the daemon. */
export async function runPlugin(env: NodeJS.ProcessEnv, stdin: string): Promise<CniResponse> {
  const cniEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith("CNI_") && v !== undefined) cniEnv[k] = v;
  const plugin = createPodNetwork({ hostNetns: env.WEFT_CNI_HOST_NETNS, asyncTeardown: false });
  try {
    return await dispatch({ env: cniEnv, stdin }, plugin);
  } finally {
    await plugin.close();
  }
}

/** Reads all of stdin (empty when it is a closed or absent stream). */
export function readStdin(): string {
  try {
    return readFileSync(0, "utf8");
  } catch {
    return "";
  }
}
