// The wire protocol between the weft-cni forwarder (C) and the CNI server. Binary, so that the
// forwarder needs no JSON code and stdin bytes pass through unchanged:
//
//   request  = u32be N, then N bytes: zero or more "KEY=VALUE\0" environment entries (the forwarder
//              sends only CNI_* variables), one more "\0", then the stdin bytes (the rest)
//   response = u32be N, then N bytes: u32be exit code, u32be S, S bytes of stdout, then the stderr
//              bytes (the rest)
//
// One request and one response per connection; the server closes the connection after answering.
import type { CniRequest, CniResponse } from "./types.ts";

/** Frames larger than this are refused (a network config is a few kilobytes). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Encodes a request frame (length prefix included). */
export function encodeRequest(request: CniRequest): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(request.env)) {
    if (k.includes("=") || k.includes("\0") || v.includes("\0")) throw new TypeError(`encodeRequest: env entry ${k} contains '=' in its key or a NUL byte`);
    parts.push(Buffer.from(`${k}=${v}\0`));
  }
  parts.push(Buffer.from([0]), Buffer.from(request.stdin));
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Decodes a request body (without the length prefix). Throws `SyntaxError` on a malformed body. */
export function decodeRequest(body: Buffer): CniRequest {
  const env: Record<string, string> = {};
  let pos = 0;
  for (;;) {
    const end = body.indexOf(0, pos);
    if (end < 0) throw new SyntaxError("decodeRequest: environment block is not terminated by an empty entry");
    if (end === pos) {
      pos = end + 1;
      break;
    }
    const entry = body.toString("utf8", pos, end);
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new SyntaxError(`decodeRequest: environment entry "${entry}" has no KEY=`);
    env[entry.slice(0, eq)] = entry.slice(eq + 1);
    pos = end + 1;
  }
  return { env, stdin: body.toString("utf8", pos) };
}

/** Encodes a response frame (length prefix included). */
export function encodeResponse(response: CniResponse): Buffer {
  const out = Buffer.from(response.stdout);
  const err = Buffer.from(response.stderr);
  const frame = Buffer.alloc(12 + out.length + err.length);
  frame.writeUInt32BE(8 + out.length + err.length, 0);
  frame.writeUInt32BE(response.exitCode >>> 0, 4);
  frame.writeUInt32BE(out.length, 8);
  out.copy(frame, 12);
  err.copy(frame, 12 + out.length);
  return frame;
}

/** Decodes a response body (without the length prefix). Throws `SyntaxError` on a malformed body. */
export function decodeResponse(body: Buffer): CniResponse {
  if (body.length < 8) throw new SyntaxError("decodeResponse: body shorter than 8 bytes");
  const n = body.readUInt32BE(4);
  if (8 + n > body.length) throw new SyntaxError("decodeResponse: stdout length exceeds the body");
  return { exitCode: body.readUInt32BE(0), stdout: body.toString("utf8", 8, 8 + n), stderr: body.toString("utf8", 8 + n) };
}

/**
 * Collects one length-prefixed frame from a stream of chunks. `push` returns the body once it is
 * complete (and undefined before); it throws `RangeError` for a frame over `MAX_FRAME_BYTES`.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #have = 0;
  push(chunk: Buffer): Buffer | undefined {
    this.#chunks.push(chunk);
    this.#have += chunk.length;
    if (this.#have < 4) return undefined;
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [all];
    const n = all.readUInt32BE(0);
    if (n > MAX_FRAME_BYTES) throw new RangeError(`frame of ${n} bytes exceeds MAX_FRAME_BYTES (${MAX_FRAME_BYTES})`);
    if (all.length < 4 + n) return undefined;
    return all.subarray(4, 4 + n);
  }
}
