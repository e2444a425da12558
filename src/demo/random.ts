/**
 * A small seeded PRNG (mulberry32) for the demo and test data: the same seed always gives the same data,
 * on every machine, which `Math.random` cannot promise.
 */

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [low, high], both included. */
  int(low: number, high: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
  /** `length` decimal digits, leading zeros allowed. */
  digits(length: number): string;
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function createRandom(seed: number): Random {
  const next = mulberry32(seed);
  const int = (low: number, high: number): number => low + Math.floor(next() * (high - low + 1));
  return {
    next,
    int,
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (probability) => next() < probability,
    digits: (length) => {
      let out = '';
      for (let i = 0; i < length; i++) out += String.fromCharCode(48 + Math.floor(next() * 10));
      return out;
    },
  };
}

export function padDigits(value: number, length: number): string {
  return String(value).padStart(length, '0');
}
