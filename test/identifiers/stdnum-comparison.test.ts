import { stdnum } from 'stdnum';
import { describe, expect, it } from 'vitest';
import { checkNir } from '../../src/identifiers/nir.ts';
import { checkSiren } from '../../src/identifiers/siren.ts';
import { checkSiret } from '../../src/identifiers/siret.ts';
import { luhnCheckDigit, validNir, validSiren, validSiret, wrongLastDigit } from './check-digits.ts';

/** Why src/identifiers is hand-written: where the stdnum package and SPEC §2 part ways. */
describe('stdnum against SPEC §2', () => {
  const siren = validSiren('73282932');

  it('agrees on ordinary SIRENs and SIRETs', () => {
    for (const value of [siren, wrongLastDigit(siren), validSiret(siren, '0001'), '35600000000048']) {
      expect(stdnum.FR.siren.validate(value.slice(0, 9)).isValid).toBe(checkSiren(value.slice(0, 9)).ok);
      if (value.length === 14) expect(stdnum.FR.siret.validate(value).isValid).toBe(checkSiret(value).ok);
    }
  });

  it('stdnum accepts SIREN 000000000, SPEC refuses it', () => {
    expect(stdnum.FR.siren.validate('000000000').isValid).toBe(true);
    expect(checkSiren('000000000')).toMatchObject({ ok: false, code: 'SIREN_INVALID' });
  });

  it('stdnum accepts a Luhn-valid SIRET whose SIREN is not, SPEC refuses it', () => {
    const badSiren = wrongLastDigit(siren);
    const siret = badSiren + '0001' + luhnCheckDigit(badSiren + '0001');
    expect(stdnum.FR.siret.validate(siret).isValid).toBe(true);
    expect(checkSiret(siret)).toMatchObject({ ok: false, code: 'SIRET_CHECKSUM' });
  });

  it('stdnum accepts a NIR with an impossible sex and month, SPEC refuses it', () => {
    const nir = validNir('5851375056123');
    expect(stdnum.FR.nir.validate(nir).isValid).toBe(true);
    expect(checkNir(nir)).toMatchObject({ ok: false, code: 'NIR_INVALID' });
  });
});
