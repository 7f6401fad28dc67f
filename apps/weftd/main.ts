#!/usr/bin/env node
// weftd: parse the command line, build the dependencies, run the agent until SIGTERM/SIGINT.
// Exits 0 on a clean shutdown (the data plane stays in place), 1 with the reason on a fatal error,
// 2 for a bad command line.
import { pino } from "pino";
import pkg from "./package.json" with { type: "json" };
import { runAgent, type AgentStatus } from "./agent.ts";
import { createAgentDeps } from "./agent_deps.ts";
import { createAgentMetrics } from "./agent_metrics.ts";
import { agentHelp, parseAgentOptions } from "./agent_options.ts";
import { startHttpEndpoints } from "./http_endpoints.ts";

let command;
try {
  command = parseAgentOptions(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`weftd: ${(err as Error).message}\n`);
  process.exit(2);
}
if (command.kind === "help") {
  process.stdout.write(agentHelp());
  process.exit(0);
}
if (command.kind === "version") {
  process.stdout.write(`weftd ${pkg.version}\n`);
  process.exit(0);
}
const options = command.options;
const logger = pino({ level: options.logLevel, base: { app: "weftd" } });
const metrics = createAgentMetrics();
const status: AgentStatus = { ready: false };
const controller = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info({ signal }, "Shutting down; leaving routes, devices and rules in place");
    controller.abort();
  });
}

const servers = [];
try {
  if (options.healthzPort > 0) servers.push(await startHttpEndpoints(options.healthzPort, { host: options.healthzIp, isReady: () => status.ready }));
  if (options.metricsPort > 0) servers.push(await startHttpEndpoints(options.metricsPort, { host: options.metricsIp, health: false, metrics: metrics.registry }));
  const { deps, close } = await createAgentDeps(options, { logger, metrics });
  try {
    await runAgent(options, deps, { signal: controller.signal, status });
  } finally {
    await close();
  }
} catch (err) {
  if (!controller.signal.aborted) {
    logger.fatal({ err: (err as Error).message }, (err as Error).message);
    process.exitCode = 1;
  }
} finally {
  for (const s of servers) s.close();
}
// ioredis and informers may hold handles briefly after close; do not let them keep a stopping agent alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
