import { createConnection } from "node:net";
import { FrameReader, decodeResponse, encodeRequest } from "./frame.ts";
import type { CniRequest, CniResponse } from "./types.ts";

/** Options for {@linkcode callCniServer}. */
export interface CallCniServerOptions {
  /** Give up (reject) after this long; @default 60000 */
  timeoutMs?: number;
}

/**
 * Sends one request to a CNI server and returns its answer: what the C forwarder does, in
 * TypeScript (for tests and tools). Rejects when the socket cannot be reached.
 */
export function callCniServer(socketPath: string, request: CniRequest, options: CallCniServerOptions = {}): Promise<CniResponse> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    const reader = new FrameReader();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`CNI server at ${socketPath} did not answer within ${options.timeoutMs ?? 60_000} ms`));
    }, options.timeoutMs ?? 60_000);
    sock.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on("data", (chunk: Buffer) => {
      const body = reader.push(chunk);
      if (!body) return;
      clearTimeout(timer);
      sock.destroy();
      try {
        resolve(decodeResponse(body));
      } catch (err) {
        reject(err);
      }
    });
    sock.once("end", () => {
      clearTimeout(timer);
      reject(new Error(`CNI server at ${socketPath} closed the connection without an answer`));
    });
    sock.write(encodeRequest(request));
  });
}
