/** Milliseconds since the epoch (Date.now) or any monotonic origin (performance.now); a parameter everywhere in core/fleet. */
export type Clock = () => number;

/** Resolves after `ms`; tests pass one driven by their own clock. */
export type Sleep = (ms: number) => Promise<void>;
