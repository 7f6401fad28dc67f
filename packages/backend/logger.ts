import type { Logger } from "./types.ts";

const ignore = (): void => {};

/** A {@linkcode Logger} that drops everything; the default wherever a logger is optional. */
export const noopLogger: Logger = Object.freeze({ debug: ignore, info: ignore, warn: ignore, error: ignore });
