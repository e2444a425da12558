/**
 * RELIABILITY B (bad inputs): a corpus of hostile files, generated here, each uploaded through the API of a running
 * stack (web and worker as child processes). Each must end as a failed batch with the SPEC file code (and line
 * where SPEC gives one) or as a completed batch whose rows are THE ORACLE's; nothing is applied by a failed file;
 * the worker never crashes and its peak RSS stays bounded.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom, generateImportLines, IMPORT_HEADER } from '../../src/demo/generate.ts';
import { nextOracleState, type OracleFileResult, type OracleState } from '../oracle/oracle.ts';
import { createRig, createWorld, expectedFor, report, verifyBatch, waitForBatchEnd, type Rig, type World } from './support.ts';

const HEADER = IMPORT_HEADER.join(';');
const NAME = IMPORT_HEADER.length - 1;
const WORKER_RSS_LIMIT_MB = 300;
const UPLOAD_MAX_BYTES = 256 * 1024 * 1024;
const ONE_LINE_BYTES = 200 * 1024 * 1024;

interface Expectation {
  /** A failed batch with this code (and line, when not undefined). */
  code?: string;
  line?: number | null;
  /** A completed batch: these checks on top of the oracle's outcomes. */
  completed?: { encoding?: string; lines?: number[] };
}

describe('B: hostile files', () => {
  let rig: Rig | undefined;
  let world: World;
  /** The oracle's state as the firm's completed batches leave it. */
  let state: OracleState;
  const figures: string[] = [];

  beforeAll(async () => {
    rig = await createRig({ workers: 1, env: { UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES), CHUNK_SIZE: '1000' } });
    world = await createWorld(rig, { accounts: 3_000, seed: 2001 });
    state = world.state;
  }, 120_000);

  afterAll(async () => {
    if (rig) {
      const [worker] = rig.workers();
      report('B hostile files', {
        files: figures.length,
        worker_alive: worker?.alive() ?? false,
        worker_peak_rss_mb: worker?.peakRssMb()?.toFixed(0) ?? 'n/a',
        web_peak_rss_mb: rig.web.peakRssMb()?.toFixed(0) ?? 'n/a',
      });
      for (const f of figures) console.log(`[reliability]   ${f}`);
    }
    await rig?.close();
  });

  /** Lines of a generated file (header first), without their LF. */
  const generatedLines = (rows: number, seed: number) => [...generateImportLines(world.registry, { rows, seed })].map((l) => l.slice(0, -1));

  /**
   * Uploads `bytes`, waits for the batch to end, and checks it against `want` and against the oracle (which reads the
   * same bytes): a failed file leaves no row, no count, no event; a completed one has the oracle's outcomes.
   */
  async function tryFile(name: string, bytes: Buffer | (() => AsyncIterable<Uint8Array>), want: Expectation, oracle?: OracleFileResult) {
    const started = Date.now();
    const res = typeof bytes === 'function' ? await streamUpload(rig!.web.baseUrl, world.firm.token, name, bytes()) : await world.api.upload(bytes, { filename: name });
    expect(res.status, `${name}: ${JSON.stringify(res.body)}`).toBe(202);
    const batchId: number = res.body.id;
    await waitForBatchEnd(rig!, batchId, 120_000);
    const seconds = (Date.now() - started) / 1000;
    const { body: batch } = await world.api.get(`/batches/${batchId}`);
    const [worker] = rig!.workers();
    const rss = worker?.peakRssMb();
    figures.push(
      `${name}: ${batch.status}${batch.error ? ` ${batch.error.code} line=${batch.error.line}` : ` total=${batch.counts.total} encoding=${batch.encoding}`} ` +
        `seconds=${seconds.toFixed(1)} worker_peak_rss_mb=${rss?.toFixed(0)} web_peak_rss_mb=${rig!.web.peakRssMb()?.toFixed(0)}`,
    );
    expect(worker?.alive(), `${name}: worker died\n${rig!.group.diagnostics()}`).toBe(true);
    expect(rss, name).toBeLessThan(WORKER_RSS_LIMIT_MB);

    const rows = await rig!.db.db.selectFrom('batch_row').select((eb) => eb.fn.countAll<string>().as('n')).where('batch_id', '=', batchId).executeTakeFirstOrThrow();
    const events = await rig!.db.db.selectFrom('portfolio_history').select((eb) => eb.fn.countAll<string>().as('n')).where('batch_id', '=', batchId).executeTakeFirstOrThrow();
    if (want.code) {
      expect(batch.status, name).toBe('failed');
      expect(batch.error.code, name).toBe(want.code);
      if (want.line !== undefined) expect(batch.error.line, name).toBe(want.line);
      expect(batch.error.message, name).not.toBe('');
      expect(batch.counts, name).toEqual({ total: 0, added: 0, removed: 0, updated: 0, unchanged: 0, rejected: 0 });
      expect(Number(rows.n), name).toBe(0);
      expect(Number(events.n), name).toBe(0);
      if (oracle) expect(oracle.fileError, name).toEqual({ code: want.code, line: want.line === undefined ? oracle.fileError?.line : want.line });
    } else {
      expect(batch.status, `${name}: ${JSON.stringify(batch.error)}`).toBe('completed');
      if (want.completed?.encoding) expect(batch.encoding, name).toBe(want.completed.encoding);
      if (oracle) {
        expect(oracle.fileError, name).toBeNull();
        const verdict = await verifyBatch(rig!, batchId, oracle);
        expect(verdict.samples, name).toEqual([]);
        state = nextOracleState(state, oracle);
      }
      if (want.completed?.lines) {
        const lines = (await rig!.db.db.selectFrom('batch_row').select('line').where('batch_id', '=', batchId).orderBy('line').execute()).map((r) => r.line);
        expect(lines, name).toEqual(want.completed.lines);
      }
    }
    return { batchId, batch };
  }

  it('random bytes: FILE_BINARY (they hold NUL bytes); random bytes without NUL: whatever the oracle reads', async () => {
    const random = createRandom(2002);
    const noise = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = random.int(0, 255);
    await tryFile('random-bytes.csv', noise, { code: 'FILE_BINARY', line: null }, await expectedFor(noise, state));

    const printable = Buffer.alloc(256 * 1024);
    for (let i = 0; i < printable.length; i++) printable[i] = random.int(1, 255);
    const oracle = await expectedFor(printable, state);
    await tryFile('random-bytes-no-nul.csv', printable, oracle.fileError ? { code: oracle.fileError.code, line: oracle.fileError.line } : {}, oracle);
  }, 120_000);

  it('a truncated file: cut mid-record (completes, the cut row malformed) and mid-quoted-field (FILE_MALFORMED at its line)', async () => {
    const lines = generatedLines(3_000, 2003);
    const whole = lines.join('\n');
    const cut = Buffer.from(whole.slice(0, whole.length - Math.floor(lines[lines.length - 1].length / 2)));
    const oracleCut = await expectedFor(cut, state);
    const { batchId } = await tryFile('truncated-mid-record.csv', cut, { completed: {} }, oracleCut);
    const last = await rig!.db.db.selectFrom('batch_row').select(['line', 'codes']).where('batch_id', '=', batchId).orderBy('line', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(last.line).toBe(lines.length);

    // A record whose quoted name is cut before its closing quote.
    const quoted = [...lines.slice(0, 1500), `ajout;1;;;117000000000000001;1,00;;;;"SARL ""LE PIN""; et fils`];
    const cutQuoted = Buffer.from(quoted.join('\n').slice(0, -4));
    await tryFile('truncated-mid-quoted-field.csv', cutQuoted, { code: 'FILE_MALFORMED', line: 1501 }, await expectedFor(cutQuoted, state));
  }, 120_000);

  it('a 200 MB single line with no newline, streamed: FILE_MALFORMED at line 1, memory bounded', async () => {
    const head = Buffer.from('action;siren;numero de compte;');
    const filler = Buffer.from('lorem ipsum dolor sit amet consectetur '.repeat(1700)); // ~64 KiB a piece
    const body = async function* () {
      yield head;
      for (let sent = head.length; sent < ONE_LINE_BYTES; sent += filler.length) yield filler.subarray(0, Math.min(filler.length, ONE_LINE_BYTES - sent));
    };
    await tryFile('one-line-200mb.csv', body, { code: 'FILE_MALFORMED', line: 1 });
  }, 180_000);

  it('a header of 100,000 columns: FILE_MALFORMED at line 1 (a record over 64 KiB)', async () => {
    const cells = ['action', 'siren'];
    for (let i = 1; i <= 100_000; i++) cells.push(`colonne ${i}`);
    const file = Buffer.from(`${cells.join(';')}\nadd;732829320\n`);
    await tryFile('header-100k-columns.csv', file, { code: 'FILE_MALFORMED', line: 1 }, await expectedFor(file, state));
  }, 120_000);

  it('NUL bytes in a CSV: FILE_BINARY, nothing applied', async () => {
    const lines = generatedLines(2_000, 2004);
    lines[1000] = lines[1000].replace(';', ';\u0000');
    const file = Buffer.from(lines.join('\n') + '\n');
    await tryFile('nul-bytes.csv', file, { code: 'FILE_BINARY', line: null }, await expectedFor(file, state));
  }, 120_000);

  it('UTF-16 LE with BOM (Excel « Texte Unicode »): FILE_BINARY, and the message says to save as CSV UTF-8', async () => {
    const text = generatedLines(200, 2005).join('\r\n') + '\r\n';
    const file = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const { batch } = await tryFile('utf16le-bom.csv', file, { code: 'FILE_BINARY', line: null }, await expectedFor(file, state));
    expect(batch.error.message).toMatch(/UTF-16/);
    expect(batch.error.message).toMatch(/CSV UTF-8/);
  }, 120_000);

  it('invalid UTF-8 is read as Windows-1252, not failed, and never stored with U+FFFD', async () => {
    const lines = generatedLines(2_000, 2006);
    const names = ['Société Générale', 'Boulangerie Œillet & Fils', 'Café du Marché – 20 €', 'Garçon “Déménageur”'];
    for (let i = 0; i < names.length; i++) {
      const cells = lines[1 + i * 400].split(';');
      cells[NAME] = names[i];
      lines[1 + i * 400] = cells.join(';');
    }
    const file = iconv.encode(lines.join('\r\n') + '\r\n', 'win1252');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(file)).toThrow();
    const { batchId } = await tryFile('windows-1252.csv', file, { completed: { encoding: 'windows-1252' } }, await expectedFor(file, state));
    const stored = await rig!.db.db.selectFrom('batch_row').select(['line', 'name']).where('batch_id', '=', batchId).where('line', 'in', [2, 402, 802, 1202]).orderBy('line').execute();
    expect(stored.map((r) => r.name)).toEqual(names);
    const mangled = await rig!.db.db.selectFrom('batch_row').select('line').where('batch_id', '=', batchId).where('name', 'like', '%\uFFFD%').execute();
    expect(mangled).toEqual([]);
  }, 120_000);

  it('a UTF-8 BOM followed by an invalid byte: FILE_MALFORMED at the line of that byte', async () => {
    const lines = generatedLines(500, 2007);
    const before = Buffer.from(lines.slice(0, 49).join('\n') + '\n');
    const bad = Buffer.concat([Buffer.from(lines[49].slice(0, -3)), Buffer.from([0xe9]), Buffer.from(lines[49].slice(-3) + '\n')]);
    const after = Buffer.from(lines.slice(50).join('\n') + '\n');
    const file = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), before, bad, after]);
    await tryFile('utf8-bom-invalid-byte.csv', file, { code: 'FILE_MALFORMED', line: 50 }, await expectedFor(file, state));
  }, 120_000);

  it('mixed line endings (CRLF, LF, CR), a quoted line break and blank lines: line numbers are physical lines', async () => {
    const row = (n: number, name: string) => `bogus;1;;;11700000000000000${n};;;;;${name}`;
    const text =
      HEADER + '\r\n' + // 1
      row(2, 'ligne deux') + '\n' + // 2
      '\r' + // 3: blank
      row(4, 'ligne quatre') + '\r' + // 4
      row(5, '"ligne cinq') + '\r\n' + // 5, the quoted name goes on
      'suite"' + '\n' + // 6
      ' ; ;' + '\r\n' + // 7: blank (spaces and delimiters)
      row(8, 'ligne huit') + '\r\n' + // 8
      row(9, 'ligne neuf'); // 9, no line break at the end
    const file = Buffer.from(text);
    const { batchId } = await tryFile('mixed-line-endings.csv', file, { completed: { lines: [2, 4, 5, 8, 9] } }, await expectedFor(file, state));
    const five = await rig!.db.db.selectFrom('batch_row').select(['name', 'codes']).where('batch_id', '=', batchId).where('line', '=', 5).executeTakeFirstOrThrow();
    expect(five).toEqual({ name: 'ligne cinq\r\nsuite', codes: ['ACTION_INVALID'] });
  }, 120_000);

  it('an unterminated quote early in a large file, and late in one: FILE_MALFORMED at its line, nothing applied', async () => {
    for (const [name, at] of [['unterminated-quote-early.csv', 10], ['unterminated-quote-late.csv', 19_990]] as const) {
      // Without the generator's quoted names: a later quote would close this one (as CSV reads it).
      const lines = generatedLines(21_000, 2008 + at).filter((l) => !l.includes('"')).slice(0, 20_000);
      const cells = lines[at - 1].split(';');
      cells[NAME] = `"SARL jamais fermée ${randomBytes(2).toString('hex')}`;
      lines[at - 1] = cells.join(';');
      const file = Buffer.from(lines.join('\n') + '\n');
      await tryFile(name, file, { code: 'FILE_MALFORMED', line: at }, await expectedFor(file, state));
    }
  }, 180_000);
});

/** POSTs a multipart body streamed from `chunks` (chunked transfer, no Content-Length), never held whole in memory. */
async function streamUpload(baseUrl: string, token: string, filename: string, chunks: AsyncIterable<Uint8Array>) {
  const boundary = `----pi${randomBytes(8).toString('hex')}`;
  async function* body() {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`);
    yield* chunks;
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  const res = await fetch(`${baseUrl}/api/v1/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as any };
}
