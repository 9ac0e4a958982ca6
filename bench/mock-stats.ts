/**
 * The mock upstream's counters (what /__bench/stats returns), in a module of their own: the mock
 * itself starts a server when loaded, and the bench sums counters over windows (scenarios/throughput.ts).
 */
export interface MockStats {
  requests: number;
  injectedKey: number;
  mappedModel: number;
  streamsStarted: number;
  /** Streams whose request asked for `stream_options.include_usage` (and got the usage chunk). */
  usageStreams: number;
  streamsFinished: number;
  activeStreams: number;
  peakStreams: number;
  uploadBytes: number;
  /** Requests per key the upstream saw (the token of `Authorization: Bearer …`), at most 64 keys. */
  keys: Record<string, number>;
}

/** All counters at zero. */
export function createEmptyStats(): MockStats {
  return {
    requests: 0,
    injectedKey: 0,
    mappedModel: 0,
    streamsStarted: 0,
    usageStreams: 0,
    streamsFinished: 0,
    activeStreams: 0,
    peakStreams: 0,
    uploadBytes: 0,
    keys: Object.create(null) as Record<string, number>,
  };
}
