/** Luhn check over `digits[0..end)` (all ASCII digits, checked by the caller). */
export function isLuhnValid(digits: string, end: number = digits.length): boolean {
  let sum = 0;
  let double = false;
  for (let i = end - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}
