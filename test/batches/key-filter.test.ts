import { describe, expect, it } from 'vitest';
import { KeyFilter, hashKey } from '../../src/batches/key-filter.ts';
import { mulberry32 } from '../../src/demo/random.ts';

/** Distinct 18-digit account-number-like keys. */
function keys(count: number, seed: number): string[] {
  const random = mulberry32(seed);
  const out = new Set<string>();
  while (out.size < count) out.add(String(100_000_000 + Math.floor(random() * 900_000_000)) + String(100_000_000 + Math.floor(random() * 900_000_000)));
  return [...out];
}

describe('KeyFilter: the duplicate-key filter', () => {
  it('never misses a key seen before, and keeps false candidates rare at its full load', () => {
    // 2^20 bits for 78,125 keys: the load of 5,000,000 keys in the 2^26 bits a batch uses.
    const filter = new KeyFilter(20);
    const all = keys(78_125, 7);
    let falseCandidates = 0;
    for (const key of all) if (filter.addAndTest(key)) falseCandidates++;
    expect(falseCandidates / all.length).toBeLessThan(0.01);
    for (const key of all) expect(filter.addAndTest(key)).toBe(true);
  });

  it('gives the same answers for keys hashed elsewhere (a reading thread)', () => {
    const direct = new KeyFilter(16);
    const hashed = new KeyFilter(16);
    const out = new Int32Array(2);
    for (const key of [...keys(5_000, 3), ...keys(5_000, 3).slice(0, 100)]) {
      hashKey(key, out, 0);
      expect(hashed.addHashesAndTest(out[0], out[1])).toBe(direct.addAndTest(key));
    }
  });
});
