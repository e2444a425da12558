import { describe, expect, it } from 'vitest';
import { isBlank, looksScientific, normalizeIdentifier } from '../../src/identifiers/normalize.ts';

describe('normalizeIdentifier', () => {
  it.each([
    ['732829320', '732829320'],
    ['732 829 320', '732829320'],
    ['732\u00a0829\u202f320', '732829320'],
    ['732.829-320', '732829320'],
    [' 2a ', '2a'],
    ['', ''],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeIdentifier(raw)).toBe(expected);
  });

  it('returns the very string when there is nothing to remove', () => {
    const raw = '117000000012345678';
    expect(normalizeIdentifier(raw)).toBe(raw);
  });
});

describe('looksScientific', () => {
  it.each(['1,17E+17', '1.17E+17', '1,17e17', '7E+08', ' 1,17E+17 '])('%j is Excel damage', (raw) => {
    expect(looksScientific(raw)).toBe(true);
  });
  it.each(['117000000012345678', '2A', 'E17', '1,17'])('%j is not', (raw) => {
    expect(looksScientific(raw)).toBe(false);
  });
});

describe('isBlank', () => {
  it.each([['', true], ['  ', true], ['\u00a0\t', true], [' x ', false]])('%j → %s', (raw, blank) => {
    expect(isBlank(raw)).toBe(blank);
  });
});
