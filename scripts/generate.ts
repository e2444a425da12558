/**
 * Writes synthetic data files, streamed with backpressure:
 *   tsx scripts/generate.ts registry --count N --seed S --out FILE
 *   tsx scripts/generate.ts import --registry-count N --rows M --seed S --out FILE [--windows-1252] [--registry-seed R]
 * The import refers to the registry that `registry --count N --seed R` writes (R defaults to S).
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import iconv from 'iconv-lite';
import { generateImportLines, generateRegistry, registryCsvLines } from '../src/demo/generate.ts';

const CHUNK_CHARS = 64 * 1024;
// The import's own seed is derived so that its draws do not mirror the registry's when both use the same seed.
const IMPORT_SEED_SALT = 0x5eed;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      count: { type: 'string' },
      'registry-count': { type: 'string' },
      'registry-seed': { type: 'string' },
      rows: { type: 'string' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      'windows-1252': { type: 'boolean', default: false },
    },
  });
  if (values.out === undefined) throw new Error('--out FILE is required');
  const seed = integer('--seed', values.seed);
  const encode = values['windows-1252']
    ? (text: string) => iconv.encode(text, 'windows-1252')
    : (text: string) => Buffer.from(text, 'utf8');
  const started = performance.now();
  let lines: Iterable<string>;
  let records: number;
  if (command === 'registry') {
    records = integer('--count', values.count);
    lines = registryCsvLines(generateRegistry({ count: records, seed }));
  } else if (command === 'import') {
    records = integer('--rows', values.rows);
    const registrySeed = values['registry-seed'] === undefined ? seed : integer('--registry-seed', values['registry-seed']);
    const registry = [...generateRegistry({ count: integer('--registry-count', values['registry-count']), seed: registrySeed })];
    lines = generateImportLines(registry, { rows: records, seed: seed ^ IMPORT_SEED_SALT });
  } else {
    throw new Error('usage: generate.ts registry|import … (see the header of scripts/generate.ts)');
  }
  await pipeline(Readable.from(chunks(lines, encode)), createWriteStream(values.out));
  const seconds = (performance.now() - started) / 1000;
  console.error(JSON.stringify({ command, records, seconds: round(seconds), records_per_s: Math.round(records / seconds) }));
}

/** Lines gathered into ~64 KiB buffers: one write per line would cost more than generating it. */
function* chunks(lines: Iterable<string>, encode: (text: string) => Buffer): Generator<Buffer> {
  let pending = '';
  for (const line of lines) {
    pending += line;
    if (pending.length >= CHUNK_CHARS) {
      yield encode(pending);
      pending = '';
    }
  }
  if (pending !== '') yield encode(pending);
}

function integer(flag: string, value: string | undefined): number {
  const parsed = Number(value);
  if (value === undefined || !Number.isSafeInteger(parsed) || parsed < 0) throw new Error(`${flag} needs a whole number`);
  return parsed;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
