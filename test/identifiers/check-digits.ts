/**
 * Independent check-digit helpers for tests: written differently from src/identifiers (strings and BigInt, no
 * shared code), so a test cannot pass by repeating the implementation's mistake.
 */

/** The digit that makes `body + digit` Luhn-valid. */
export function luhnCheckDigit(body: string): string {
  const reversed = [...body].reverse().map(Number);
  // In the final number the check digit is at position 0, so body digits at even positions here are doubled.
  const sum = reversed.reduce((total, digit, index) => {
    if (index % 2 === 0) {
      const doubled = digit * 2;
      return total + Math.floor(doubled / 10) + (doubled % 10);
    }
    return total + digit;
  }, 0);
  return String((10 - (sum % 10)) % 10);
}

export const validSiren = (body8: string): string => body8 + luhnCheckDigit(body8);

/** A 14-digit SIRET whose SIREN is `siren9` and whose 14 digits are Luhn-valid. */
export const validSiret = (siren9: string, nic4: string): string => siren9 + nic4 + luhnCheckDigit(siren9 + nic4);

/** Changes the last digit: a well-formed value whose check fails. */
export const wrongLastDigit = (value: string): string => value.slice(0, -1) + String((Number(value.at(-1)) + 1) % 10);

/** The NIR key of the first 13 characters, 2A/2B standing for 19/18. */
export function nirKey(first13: string): string {
  const numeric = first13.toUpperCase().replace('2A', '19').replace('2B', '18');
  return String(97n - (BigInt(numeric) % 97n)).padStart(2, '0');
}

export const validNir = (first13: string): string => first13 + nirKey(first13);
