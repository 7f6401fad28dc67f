/** One benchmark figure: ours against a baseline measured in the same run. */
export interface BenchResult {
  /** The benchmark's name, optionally with a `/variant` suffix (`cni/add-median`). */
  bench: string;
  ours: number;
  baseline: number;
  /** `ms`, `ops/s`, `pods/s`, ... */
  unit: string;
  lowerIsBetter: boolean;
  /** Extra facts printed on the line before the JSON (counts, checks such as `conflicts: 0`). */
  notes?: Record<string, unknown>;
}

/** The JSON object a benchmark prints as its last line per result. */
export interface BenchLine {
  bench: string;
  ours: number;
  baseline: number;
  unit: string;
  ratio: number;
  lowerIsBetter: boolean;
}

/** Builds the result line; the ratio is always ours / baseline, rounded to 3 decimals. */
export function benchLine(result: BenchResult): BenchLine {
  if (!(result.baseline > 0)) throw new RangeError(`bench ${result.bench}: baseline must be a positive number, got ${result.baseline}`);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    bench: result.bench,
    ours: round(result.ours),
    baseline: round(result.baseline),
    unit: result.unit,
    ratio: round(result.ours / result.baseline),
    lowerIsBetter: result.lowerIsBetter,
  };
}

/** Prints a result: a human line with the notes, then the JSON line. */
export function report(result: BenchResult, options: { write?: (s: string) => void } = {}): BenchLine {
  const write = options.write ?? ((s: string) => process.stdout.write(s));
  const line = benchLine(result);
  const notes = result.notes ? " " + Object.entries(result.notes).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ") : "";
  write(`# ${line.bench}: ours ${line.ours} ${line.unit}, baseline ${line.baseline} ${line.unit}, ratio ${line.ratio}${notes}\n`);
  write(JSON.stringify(line) + "\n");
  return line;
}
