#!/usr/bin/env node
// weft-cni-node: the Node entry of the Weft CNI plugin. A dispatcher only (STYLE 20):
//   main.ts install --bin-dir /opt/cni/bin --conf-dir /etc/cni/net.d   (DaemonSet init container)
//   main.ts serve [--socket /run/weft/cni.sock] [--host-netns NS]       (the server, without weftd)
//   main.ts                                                             (one CNI call in-process)
import { readStdin, runInstall, runPlugin, runServe } from "./cli.ts";

const [command, ...rest] = process.argv.slice(2);
if (command === "install") {
  process.stdout.write(runInstall(rest));
} else if (command === "serve") {
  const ac = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => ac.abort());
  await runServe(rest, ac.signal);
} else {
  const r = await runPlugin(process.env, readStdin());
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.exitCode;
}
