/** Summary of repeated timings, in milliseconds. */
export interface Timings {
  samples: number[];
  median: number;
  p95: number;
  min: number;
  mean: number;
}

/** Summarises samples (milliseconds). */
export function summarize(samples: readonly number[]): Timings {
  if (samples.length === 0) throw new RangeError("summarize: no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { samples: [...samples], median, p95: at(0.95), min: sorted[0]!, mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

/** Options for {@linkcode measure}. */
export interface MeasureOptions {
  /** Timed runs; @default 5 */
  runs?: number;
  /** Untimed runs first; @default 1 */
  warmup?: number;
  /** Called before each run, untimed (e.g. to reset state); @default none */
  before?: () => Promise<void> | void;
  /** Called after each run, untimed; @default none */
  after?: () => Promise<void> | void;
}

/** Times `fn` several times and summarises the wall-clock durations (ms). */
export async function measure(fn: () => Promise<unknown> | unknown, options: MeasureOptions = {}): Promise<Timings> {
  const runs = options.runs ?? 5;
  const samples: number[] = [];
  for (let i = 0; i < (options.warmup ?? 1) + runs; i++) {
    await options.before?.();
    const start = performance.now();
    await fn();
    const elapsed = performance.now() - start;
    await options.after?.();
    if (i >= (options.warmup ?? 1)) samples.push(elapsed);
  }
  return summarize(samples);
}
