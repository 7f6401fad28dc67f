/**
 * The benchmark kit: timing helpers and the one-line JSON result every benchmark prints.
 *
 * @example
 * ```ts
 * import { measure, report } from "@weft/bench";
 * const ours = await measure(() => doIt(), { runs: 5 });
 * const baseline = await measure(() => doItTheReferenceWay(), { runs: 5 });
 * report({ bench: "example", ours: ours.median, baseline: baseline.median, unit: "ms", lowerIsBetter: true });
 * ```
 */
export * from "./bench_result.ts";
export * from "./measure.ts";
