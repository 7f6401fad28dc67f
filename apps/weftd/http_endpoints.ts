import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

/** Options for {@linkcode startHttpEndpoints}. */
export interface HttpEndpointsOptions {
  /** @default "0.0.0.0" */
  host?: string;
  /** Whether the agent is ready; /readyz answers 503 until it is. */
  isReady?: () => boolean;
  /** Serve /metrics from this registry; @default no /metrics */
  metrics?: Registry;
  /** Serve /healthz and /readyz; @default true */
  health?: boolean;
}

/**
 * Starts an HTTP server: `/healthz` (200 while the process runs), `/readyz` (503 until ready), and
 * optionally `/metrics`. Resolves with the listening server (port 0 picks a free port).
 */
export async function startHttpEndpoints(port: number, options: HttpEndpointsOptions = {}): Promise<Server> {
  const health = options.health ?? true;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
    if (health && path === "/healthz") return send(200, "weftd is running\n");
    if (health && path === "/readyz") return options.isReady?.() ? send(200, "weftd is ready\n") : send(503, "weftd is not ready yet\n");
    if (options.metrics && path === "/metrics") {
      options.metrics.metrics().then(
        (text) => send(200, text, options.metrics!.contentType),
        (err: Error) => send(500, `metrics failed: ${err.message}\n`),
      );
      return;
    }
    send(404, "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
