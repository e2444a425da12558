/** Identifiers with check digits computed here, independently of the code under test. */

function luhnSum(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum;
}

/** A Luhn-valid SIREN from an 8-digit body. */
export function siren(body8: string): string {
  for (let d = 0; d <= 9; d++) if (luhnSum(body8 + d) % 10 === 0) return body8 + d;
  throw new Error('unreachable');
}

/** A valid SIRET for a SIREN and a 4-digit establishment number. */
export function siret(sirenValue: string, nic4: string): string {
  for (let d = 0; d <= 9; d++) if (luhnSum(sirenValue + nic4 + d) % 10 === 0) return sirenValue + nic4 + d;
  throw new Error('unreachable');
}

/** A NIR with its key: 13 characters (2A/2B allowed) then 97 − (number mod 97). */
export function nir(first13: string): string {
  const numeric = BigInt(first13.replace('2A', '19').replace('2B', '18'));
  const key = 97n - (numeric % 97n);
  return first13 + key.toString().padStart(2, '0');
}

let accountSeq = 100_000;
/** A fresh 18-digit account number. */
export function accountNumber(): string {
  accountSeq += 7;
  return '117' + String(accountSeq).padStart(15, '0');
}
