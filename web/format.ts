/** Parses a positive integer id from a path or query parameter; undefined when it is not one. */
export function parseId(raw: string | undefined): number | undefined {
  if (!raw || !/^\d{1,15}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n > 0 ? n : undefined;
}

export function parseLimit(raw: string | undefined, fallback: number, max: number): number | undefined {
  if (raw === undefined || raw === '') return fallback;
  const n = parseId(raw);
  return n === undefined ? undefined : Math.min(n, max);
}
