/**
 * Check digits for generated identifiers. Written here on purpose, apart from src/identifiers/: the demo data
 * must not be valid merely because it agrees with the code it is meant to test.
 */

/** The digit to append to `body` so that the whole number passes the Luhn check (SIREN, SIRET). */
export function luhnCheckDigit(body: string): string {
  let sum = 0;
  // Once the check digit is appended, the last digit of the body sits in an even position from the right: doubled.
  for (let i = body.length - 1, double = true; i >= 0; i--, double = !double) {
    let digit = body.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

/** The NIR key of the first 13 characters: 97 − (number mod 97), with Corsica's 2A read as 19 and 2B as 18. */
export function nirKey(first13: string): string {
  const numeric = first13.slice(0, 5) + corsicaDigits(first13.slice(5, 7)) + first13.slice(7);
  return String(97 - (Number(numeric) % 97)).padStart(2, '0');
}

function corsicaDigits(department: string): string {
  if (department === '2A') return '19';
  if (department === '2B') return '18';
  return department;
}
