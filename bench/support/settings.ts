/** How long and how big each scenario runs: the full run (under 15 minutes) or `--quick` (under 3). */
export interface BenchSettings {
  quick: boolean;
  /** Seconds of each saturating or fixed-rate ping load. */
  loadSeconds: number;
  /** Seconds of load before each measured one, so JIT and caches are warm. */
  warmupSeconds: number;
  /** Users queued for the pull throughput rows (5, 6). */
  pullUsers: number;
  /** Users of the coalescing row (7). */
  coalescingUsers: number;
  /** Stored profiles of the large database of row 9 (the small one has 10,000). */
  scaleProfiles: number;
  /** Users queued for the pull rates of rows 9 and 10. */
  scalePullUsers: number;
  /** Distinct tokens of the verification microbenchmark (row 4). */
  tokens: number;
}

export function benchSettings(quick: boolean): BenchSettings {
  return quick
    ? { quick, loadSeconds: 2, warmupSeconds: 1, pullUsers: 5_000, coalescingUsers: 2_000, scaleProfiles: 50_000, scalePullUsers: 3_000, tokens: 20_000 }
    : { quick, loadSeconds: 10, warmupSeconds: 2, pullUsers: 50_000, coalescingUsers: 10_000, scaleProfiles: 1_000_000, scalePullUsers: 10_000, tokens: 100_000 };
}

/** Stored profiles of the small database of row 9. */
export const SCALE_BASELINE_PROFILES = 10_000;
