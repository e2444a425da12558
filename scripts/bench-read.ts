/**
 * Reading and checking only (no database): `npm run bench:read -- --rows N [--seed S] [--keep]`.
 * Streams a deterministic N-row import file (Windows-1252, `;`, CRLF: what French Excel writes) into a temp dir —
 * adds over the four cases, removes, about 10% bad rows — then, timed separately, reads it through openImportFile
 * (scan pass included) and checks every row with checkRow. Prints human lines, then LAST one JSON line
 * {"rows","seconds","rows_per_s","peak_rss_mb"}.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { DEFAULT_CATALOGUE } from '../src/domain/types.ts';
import { openImportFile } from '../src/csv/read-import-file.ts';
import { encodeWindows1252 } from '../src/csv/windows-1252.ts';
import { checkRow } from '../src/rows/check-row.ts';
import { isLuhnValid } from '../src/identifiers/luhn.ts';
import { mulberry32 } from '../src/demo/random.ts';

const READ_CHUNK_BYTES = 64 * 1024;

/**
 * The file's bytes through one reused buffer: openImportFile copies what it keeps, so reading allocates nothing
 * per chunk (a read stream's fresh buffers would be garbage the GC collects late, inflating the RSS).
 */
async function* readChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

function digits(next: () => number, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += Math.floor(next() * 10);
  return out;
}

function withLuhnDigit(body: string): string {
  for (let d = 0; d < 10; d++) if (isLuhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

function siren(next: () => number): string {
  return withLuhnDigit(String(1 + Math.floor(next() * 9)) + digits(next, 7));
}

function siret(next: () => number, ofSiren: string): string {
  for (;;) {
    const candidate = withLuhnDigit(ofSiren + digits(next, 4));
    if (isLuhnValid(candidate)) return candidate;
  }
}

function nir(next: () => number): string {
  const sex = next() < 0.5 ? '1' : '2';
  const year = digits(next, 2);
  const month = String(1 + Math.floor(next() * 12)).padStart(2, '0');
  const department = String(1 + Math.floor(next() * 95)).padStart(2, '0');
  const body = sex + year + month + department + digits(next, 3) + String(1 + Math.floor(next() * 998)).padStart(3, '0');
  const key = 97 - Number(BigInt(body) % 97n);
  return body + String(key).padStart(2, '0');
}

function amount(next: () => number): string {
  const cents = Math.floor(next() * 5_000_000);
  const euros = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0');
  return `${euros},${String(cents % 100).padStart(2, '0')} €`;
}

const HEADER = 'Action;Cas;N° SIREN;SIRET;Numéro de compte;Montant;NIR;Services en ligne;Services courriel;Raison sociale';
const NAMES = ['SARL LES PINS', 'Boulangerie Hélène', 'Cabinet Dr Élise Martin', 'SAS "LE PIN"', 'Garage Müller & Fils', 'EURL Côté Jardin'];
const ONLINE = ['DECLARER_PAYER', 'DECLARER_PAYER|CONSULTER_COMPTE', 'attestations', '', 'Déclarer_Payer, Messagerie'];
const EMAIL = ['COURRIEL_ECHEANCES', '', 'courriel_attestations+COURRIEL_ACTUALITES'];

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)];
}

function row(next: () => number): string {
  const company = siren(next);
  const account = digits(next, 18);
  const name = pick(next, NAMES);
  const online = pick(next, ONLINE);
  const email = pick(next, EMAIL);
  const roll = next();
  let cells: string[];
  if (roll < 0.25) cells = ['ajout', '1', company, '', account, amount(next), '', online, email, name];
  else if (roll < 0.45) cells = ['Ajout', 'Indépendant', '', siret(next, company), account, '', nir(next), online, email, name];
  else if (roll < 0.6) cells = ['add', '3', company, '', account, amount(next), '', online, '', name];
  else if (roll < 0.7) cells = ['ajout', 'gérant majoritaire', '', '', account, amount(next), '', '', email, name];
  else if (roll < 0.9) cells = ['suppression', '', company, '', next() < 0.5 ? account : '', '', '', '', '', name];
  else {
    // About 10% bad rows, of several kinds.
    const bad = Math.floor(next() * 5);
    if (bad === 0) cells = ['ajout', '1', company.slice(1), '', account, amount(next), '', online, email, name];
    else if (bad === 1) cells = ['ajout', '1', company, '', '1,17E+17', '12.345,6', '', online, email, name];
    else if (bad === 2) cells = ['modifier', '1', company, '', account, '', '', '', '', name];
    else if (bad === 3) cells = ['ajout', '2', company, '', account, '', '185072A12345699', 'INCONNU', '', name];
    else cells = ['ajout', '', company, '', account, '100', '', '', '', name];
  }
  return cells.map((cell) => (/[;"\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(';');
}

async function generate(path: string, rows: number, seed: number): Promise<void> {
  const next = mulberry32(seed);
  const out = createWriteStream(path);
  let text = `${HEADER}\r\n`;
  for (let i = 0; i < rows; i++) {
    text += `${row(next)}\r\n`;
    if (text.length >= 64 * 1024) {
      if (!out.write(encodeWindows1252(text))) await once(out, 'drain');
      text = '';
    }
  }
  out.end(encodeWindows1252(text));
  await once(out, 'finish');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '100000' }, seed: { type: 'string', default: '42' }, keep: { type: 'boolean', default: false } },
  });
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1) throw new Error('--rows must be a positive integer');
  const dir = await mkdtemp(join(tmpdir(), 'bench-read-'));
  const path = join(dir, 'import.csv');
  try {
    let started = performance.now();
    await generate(path, rows, Number(values.seed));
    const { size } = await stat(path);
    console.log(`generated ${rows} rows (${(size / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(2)} s: ${path}`);

    let peakRss = process.memoryUsage.rss();
    started = performance.now();
    const { meta, records } = await openImportFile(() => readChunks(path));
    let count = 0;
    let rejected = 0;
    for await (const record of records) {
      const checked = checkRow(meta.columns, record.cells, DEFAULT_CATALOGUE);
      if (checked.codes.length > 0) rejected++;
      if (++count % 65536 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }
    const seconds = (performance.now() - started) / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const peakRssMb = Math.round((peakRss / 1024 / 1024) * 10) / 10;
    console.log(`encoding ${meta.encoding}, delimiter ${JSON.stringify(meta.delimiter)}, ${count} records, ${rejected} rejected at stage 1`);
    console.log(`read and checked in ${seconds.toFixed(2)} s: ${Math.round(count / seconds)} rows/s, peak RSS ${peakRssMb} MB`);
    console.log(JSON.stringify({ rows: count, seconds: Math.round(seconds * 1000) / 1000, rows_per_s: Math.round(count / seconds), peak_rss_mb: peakRssMb }));
  } finally {
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
