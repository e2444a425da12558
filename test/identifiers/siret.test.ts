import { describe, expect, it } from 'vitest';
import { checkSiret } from '../../src/identifiers/siret.ts';
import { luhnCheckDigit, validSiren, validSiret, wrongLastDigit } from './check-digits.ts';

const siren = validSiren('73282932');
const siret = validSiret(siren, '0007');

/** A 14-digit number that is Luhn-valid as a whole while its first 9 digits are not a valid SIREN. */
function luhnValidWithBadSiren(): string {
  const badSiren = wrongLastDigit(siren);
  return badSiren + '0001' + luhnCheckDigit(badSiren + '0001');
}

/** La Poste establishments: 356000000 + 5 digits whose digit sum is a multiple of 5. */
function laPoste(nic: string): string {
  return `356000000${nic}`;
}

describe('checkSiret', () => {
  it.each([
    ['plain', siret, siret],
    ['spaced as printed', `${siret.slice(0, 3)} ${siret.slice(3, 6)} ${siret.slice(6, 9)} ${siret.slice(9)}`, siret],
    ['with NBSP and dots', `${siret.slice(0, 9)}\u00a0${siret.slice(9, 12)}.${siret.slice(12)}`, siret],
    ['La Poste head office (Luhn-valid)', '35600000000048', '35600000000048'],
    ['La Poste establishment, digit sum 15', laPoste('00001'), laPoste('00001')],
    ['La Poste establishment, digit sum 20', laPoste('12003'), laPoste('12003')],
  ])('accepts %s', (_label, raw, expected) => {
    expect(checkSiret(raw)).toEqual({ ok: true, value: expected, siren: expected.slice(0, 9) });
  });

  it('accepts La Poste establishments that are not Luhn-valid: the sum rule alone decides', () => {
    const establishment = laPoste('12003');
    expect(luhnCheckDigit(establishment.slice(0, -1))).not.toBe(establishment.at(-1));
    expect(checkSiret(establishment).ok).toBe(true);
  });

  it.each([
    ['13 digits', siret.slice(1), 'zéro initial perdu ?'],
    ['8 digits', siren.slice(1), 'zéro initial perdu ?'],
    ['15 digits', `${siret}0`, undefined],
    ['a letter', `${siret.slice(0, 13)}X`, undefined],
    ['zero SIREN', '00000000000000', undefined],
    ['scientific notation', '7,33E+13', 'nombre abîmé par Excel en notation scientifique : formatez la colonne en texte'],
  ])('refuses %s as SIRET_INVALID', (_label, raw, hint) => {
    const result = checkSiret(raw);
    expect(result).toMatchObject({ ok: false, code: 'SIRET_INVALID' });
    expect(result.ok ? undefined : result.hint).toBe(hint);
  });

  it.each([
    ['wrong last digit', wrongLastDigit(siret)],
    ['Luhn over 14 but SIREN not Luhn-valid', luhnValidWithBadSiren()],
    ['La Poste establishment, digit sum 16', laPoste('00011')],
    ['La Poste head office with a wrong digit', '35600000000049'],
  ])('refuses %s as SIRET_CHECKSUM', (_label, raw) => {
    expect(checkSiret(raw)).toEqual({ ok: false, code: 'SIRET_CHECKSUM' });
  });
});
