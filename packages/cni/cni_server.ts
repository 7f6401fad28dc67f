import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import { dispatch, type CniPlugin, type DispatchOptions } from "./dispatch.ts";
import { FrameReader, decodeRequest, encodeResponse } from "./frame.ts";

/** The socket weftd listens on and the forwarder connects to by default. */
export const DEFAULT_CNI_SOCKET = "/run/weft/cni.sock";

/** Options for {@linkcode createCniServer}. */
export interface CniServerOptions extends DispatchOptions {
  /** Unix socket path (created mode 0600, its directory 0700); @default DEFAULT_CNI_SOCKET */
  socketPath?: string;
  /** The plugin that does the work (e.g. `createPodNetwork()`). */
  plugin: CniPlugin & { close?: () => Promise<void> };
  /** A request that has not sent its whole frame by then is dropped; @default 10000 */
  readTimeoutMs?: number;
}

/** A running (or stopped) CNI server. */
export interface CniServer {
  readonly socketPath: string;
  /** Listens; replaces a stale socket file that nobody answers on. */
  start(): Promise<void>;
  /** Stops accepting, waits for requests in flight, then closes the plugin. */
  stop(): Promise<void>;
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/**
 * The server behind the weft-cni forwarder: one framed request per connection (see frame.ts),
 * answered by `dispatch()` on the given plugin. Requests run concurrently; the plugin does its
 * own locking (per container, and around shared state).
 */
export function createCniServer(options: CniServerOptions): CniServer {
  const socketPath = options.socketPath ?? DEFAULT_CNI_SOCKET;
  const readTimeoutMs = options.readTimeoutMs ?? 10_000;
  const inflight = new Set<Promise<void>>();
  let server: Server | undefined;

  const handle = (sock: Socket) => {
    const reader = new FrameReader();
    const timer = setTimeout(() => sock.destroy(), readTimeoutMs);
    let started = false;
    sock.on("error", () => {});
    sock.on("data", (chunk: Buffer) => {
      if (started) return;
      let body: Buffer | undefined;
      try {
        body = reader.push(chunk);
      } catch {
        sock.destroy();
        return;
      }
      if (!body) return;
      started = true;
      clearTimeout(timer);
      const work = (async () => {
        let frame: Buffer;
        try {
          frame = encodeResponse(await dispatch(decodeRequest(body), options.plugin, options));
        } catch (err) {
          frame = encodeResponse({ exitCode: 1, stdout: JSON.stringify({ cniVersion: "1.1.0", code: 6, msg: `malformed request frame: ${(err as Error).message}` }), stderr: "" });
        }
        await new Promise<void>((resolve) => sock.end(frame, () => resolve()));
      })();
      inflight.add(work);
      void work.finally(() => inflight.delete(work));
    });
  };

  return {
    socketPath,
    async start() {
      if (server) throw new Error(`CNI server on ${socketPath} is already started`);
      mkdirSync(dirname(socketPath), { recursive: true, mode: 0o700 });
      if (await isLive(socketPath)) throw new Error(`Cannot listen on ${socketPath}: another server answers there`);
      rmSync(socketPath, { force: true });
      const s = createServer({ allowHalfOpen: true }, handle);
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(socketPath, () => resolve());
      });
      chmodSync(socketPath, 0o600);
      server = s;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
      await Promise.allSettled([...inflight]);
      rmSync(socketPath, { force: true });
      await options.plugin.close?.();
    },
  };
}
