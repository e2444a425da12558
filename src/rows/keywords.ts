import type { Action, ClientCase, ServiceCatalogue } from '../domain/types.ts';

/**
 * Keyword cells (action, case, service codes) are matched ignoring case, accents and surrounding spaces (SPEC §2).
 * A file repeats a handful of spellings millions of times, so each distinct cell is folded once and remembered.
 */

const COMBINING_MARKS = /[\u0300-\u036f]/g;
const WHITE_SPACE_RUN = /\s+/g;

/** Lower case, no accents, trimmed, inner runs of spaces made one. */
export function foldKeyword(raw: string): string {
  return raw.trim().normalize('NFD').replace(COMBINING_MARKS, '').toLowerCase().replace(WHITE_SPACE_RUN, ' ');
}

/** A bounded memo: distinct keyword cells are few, but a hostile file must not grow it without limit. */
class Memo<T> {
  private readonly entries = new Map<string, T>();
  // The last few values met, compared before the map: a column holds a handful of values, and comparing a short
  // cell with each costs less than hashing it for the map (a fresh string from the file every time).
  private readonly recentRaw: string[] = [];
  private readonly recentValue: T[] = [];
  private next = 0;
  constructor(private readonly compute: (raw: string) => T, private readonly limit = 4096) {}
  get(raw: string): T {
    const recent = this.recentRaw;
    for (let i = 0; i < recent.length; i++) if (recent[i] === raw) return this.recentValue[i];
    let value = this.entries.get(raw);
    if (value === undefined && !this.entries.has(raw)) {
      value = this.compute(raw);
      if (this.entries.size >= this.limit) this.entries.clear();
      this.entries.set(raw, value);
    }
    this.recentRaw[this.next] = raw;
    this.recentValue[this.next] = value as T;
    this.next = (this.next + 1) % RECENT;
    return value as T;
  }
}

const RECENT = 6;

function aliasMap<T>(groups: [T, string[]][]): Map<string, T> {
  const map = new Map<string, T>();
  for (const [value, aliases] of groups) for (const alias of aliases) map.set(foldKeyword(alias), value);
  return map;
}

const ACTION_ALIASES = aliasMap<Action>([
  ['add', ['add', 'ajout', 'ajouter', 'inscrire', 'a', '+']],
  ['remove', ['remove', 'suppression', 'supprimer', 'résilier', 'resilier', 'r', '-']],
]);

/** `3` is decided per row: liberal_regulated with a SIREN or SIRET, else manager_without_siret. */
export type CaseKeyword = ClientCase | 'case_3';

const CASE_ALIASES = aliasMap<CaseKeyword>([
  ['employer', ['employer', '1', 'employeur']],
  ['independent', ['independent', '2', 'indépendant', 'independant', 'travailleur indépendant', 'ti']],
  ['liberal_regulated', ['liberal_regulated', 'profession libérale réglementée', 'pl réglementée']],
  ['case_3', ['3']],
  [
    'manager_without_siret',
    ['manager_without_siret', 'gérant majoritaire', 'gérant majoritaire sans siret', 'gérant'],
  ],
]);

const actionMemo = new Memo<Action | null>((raw) => ACTION_ALIASES.get(foldKeyword(raw)) ?? null);
const caseMemo = new Memo<CaseKeyword | null>((raw) => CASE_ALIASES.get(foldKeyword(raw)) ?? null);

/** The canonical action, or null when empty or unknown. */
export function parseAction(raw: string): Action | null {
  return actionMemo.get(raw);
}

/** The canonical case (or `case_3`), or null when unknown; call only on a non-blank cell. */
export function parseCase(raw: string): CaseKeyword | null {
  return caseMemo.get(raw);
}

/** Upper case, no accents, trimmed, inner spaces as `_` (`Déclarer payer` → `DECLARER_PAYER`). */
export function foldServiceCode(raw: string): string {
  return raw.trim().normalize('NFD').replace(COMBINING_MARKS, '').toUpperCase().replace(WHITE_SPACE_RUN, '_');
}

/** A service cell read: the known codes sorted and unique, and the pieces the catalogue does not know. */
export interface ParsedServices {
  readonly codes: readonly string[];
  readonly unknown: readonly string[];
}

const NO_SERVICES: ParsedServices = Object.freeze({ codes: Object.freeze([]), unknown: Object.freeze([]) });

function isServiceSeparator(code: number): boolean {
  return code === 0x7c || code === 0x2c || code === 0x2b; // | , +
}

function parseServicesWith(known: ReadonlyMap<string, string>, raw: string): ParsedServices {
  const codes: string[] = [];
  const unknown: string[] = [];
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    if (i < raw.length && !isServiceSeparator(raw.charCodeAt(i))) continue;
    const piece = raw.slice(start, i).trim();
    start = i + 1;
    if (piece === '') continue;
    const code = known.get(piece) ?? known.get(foldServiceCode(piece));
    if (code === undefined) {
      if (!unknown.includes(piece)) unknown.push(piece);
    } else if (!codes.includes(code)) {
      codes.push(code);
    }
  }
  if (codes.length === 0 && unknown.length === 0) return NO_SERVICES;
  codes.sort();
  return { codes, unknown };
}

interface CatalogueLookup {
  online: Memo<ParsedServices>;
  email: Memo<ParsedServices>;
}

const lookups = new WeakMap<ServiceCatalogue, CatalogueLookup>();

function foldedCodes(codes: ReadonlySet<string>): Map<string, string> {
  const map = new Map<string, string>();
  for (const code of codes) {
    map.set(code, code);
    map.set(foldServiceCode(code), code);
  }
  return map;
}

function lookupFor(catalogue: ServiceCatalogue): CatalogueLookup {
  let lookup = lookups.get(catalogue);
  if (lookup === undefined) {
    const online = foldedCodes(catalogue.online);
    const email = foldedCodes(catalogue.email);
    lookup = {
      online: new Memo((raw) => parseServicesWith(online, raw)),
      email: new Memo((raw) => parseServicesWith(email, raw)),
    };
    lookups.set(catalogue, lookup);
  }
  return lookup;
}

/**
 * Codes separated by `|`, `,` or `+`; an empty cell means none. The result is shared between equal cells: copy
 * `codes` before changing it. A catalogue is a reference table an operator may extend: pass a new object then.
 */
export function parseServices(catalogue: ServiceCatalogue, kind: 'online' | 'email', raw: string): ParsedServices {
  return lookupFor(catalogue)[kind].get(raw);
}
