import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Column, FileCode } from '../domain/types.ts';
import { FileError, noRecordError, type FileMeta } from '../csv/read-import-file.ts';
import { KeyFilter } from './key-filter.ts';
import type { StageRules } from './staged-rows.ts';

/**
 * Reading a large file on several threads. This thread cuts the file's bytes into parts of about `partBytes`,
 * each just after a line feed where the quotes seen since the part began are even — a guess at a record
 * boundary — counting the physical lines so that each part knows its first line, and hands the parts to the
 * reading threads in turn (this thread only cuts and hands out). Each reads its parts (decoding, CSV, stage 1; part-reader.ts) and writes their rows into the staging table
 * through a COPY on a connection of its own, committed when the reading ends.
 *
 * The guess is then checked: every part but the last must end between two records (not inside a quoted field)
 * on the line the next part started on. When one does not (quotes inside unquoted fields, then a quoted line
 * break), the result says so: the staged rows must be thrown away and the file read again on one thread. A file
 * error is the first one in the file: a part's error counts only once every part before it has been checked.
 */
export interface ParallelReadResult {
  rows: number;
  /** Lines of rows whose account number may appear earlier in the file (see KeyFilter). */
  candidateLines: number[];
  /** The parts were not cut between records: the staged rows must be thrown away and the file read again. */
  miscut: boolean;
}

export interface ReadThreadData {
  databaseUrl: string;
  table: string;
  copyColumns: string;
  columns: readonly (Column | null)[];
  catalogue: { online: string[]; email: string[] };
  nirHashKey: string;
  layout: { encoding: FileMeta['encoding']; delimiter: FileMeta['delimiter']; headerLine: number };
}

export type ToThread =
  | { type: 'start'; part: number; firstLine: number }
  | { type: 'bytes'; part: number; bytes: Uint8Array }
  | { type: 'end'; part: number; last: boolean }
  | { type: 'close' };

export type FromThread =
  | { type: 'read'; part: number; bytes: number; keys: Int32Array }
  | {
      type: 'ended';
      part: number;
      rows: number;
      pending: boolean;
      nextLine: number;
      error: { code: FileCode; message: string; line: number | null } | null;
    }
  | { type: 'closed' };

export interface ParallelReadOptions {
  open: () => AsyncIterable<Uint8Array>;
  meta: FileMeta;
  rules: StageRules;
  threads: number;
  partBytes: number;
  databaseUrl: string;
  /** The staging table and its COPY columns. */
  table: string;
  copyColumns: string;
}

/** Bytes sent to a thread and not read yet, past which the sender waits. */
const IN_FLIGHT_BYTES = 2 * 1024 * 1024;

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** Reads the file into the staging table on `options.threads` threads. */
export async function readInParallel(options: ParallelReadOptions): Promise<ParallelReadResult> {
  const { meta, rules } = options;
  const data: ReadThreadData = {
    databaseUrl: options.databaseUrl,
    table: options.table,
    copyColumns: options.copyColumns,
    columns: meta.columns,
    catalogue: { online: [...rules.catalogue.online], email: [...rules.catalogue.email] },
    nirHashKey: rules.nirHashKey,
    layout: { encoding: meta.encoding, delimiter: meta.delimiter, headerLine: meta.headerLine },
  };
  let failure: Error | null = null;
  let waiting: (() => void) | null = null;
  const wake = () => waiting?.();
  const fail = (err: Error) => {
    failure ??= err;
    wake();
  };
  const inFlight = Array.from({ length: options.threads }, () => 0);
  let closed = 0;
  const filter = new KeyFilter();
  const candidateLines: number[] = [];
  const parts: { firstLine: number; ended: Extract<FromThread, { type: 'ended' }> | null }[] = [];
  let stopReading = false;
  const waitFor = async (ready: () => boolean) => {
    while (!ready() && failure === null) await new Promise<void>((resolve) => (waiting = resolve));
    waiting = null;
    if (failure) throw failure;
  };
  const onMessage = (thread: number) => (message: FromThread) => {
    if (message.type === 'read') {
      inFlight[thread] -= message.bytes;
      const keys = message.keys;
      for (let i = 0; i < keys.length; i += 3) if (filter.addHashesAndTest(keys[i + 1], keys[i + 2])) candidateLines.push(keys[i]);
    } else if (message.type === 'ended') {
      parts[message.part].ended = message;
      // A file error: no need to read further (the first error in the file is in this part or an earlier one).
      if (message.error) stopReading = true;
    } else {
      closed++;
    }
    wake();
  };
  const threads: ReadThread[] = Array.from({ length: options.threads }, (_, i) => startThread(data, onMessage(i), fail));

  try {
    // Cut the bytes into parts and hand them out, never more than IN_FLIGHT_BYTES ahead of a thread.
    const cutter = new PartCutter(options.partBytes);
    let part = -1;
    let thread = 0;
    const startPart = (firstLine: number) => {
      part++;
      thread = part % threads.length;
      parts.push({ firstLine, ended: null });
      threads[thread].post({ type: 'start', part, firstLine });
    };
    const sendBytes = async (bytes: Uint8Array, whole: boolean) => {
      if (bytes.length === 0) return;
      await waitFor(() => inFlight[thread] < IN_FLIGHT_BYTES);
      inFlight[thread] += bytes.length;
      threads[thread].post({ type: 'bytes', part, bytes }, whole);
    };
    startPart(1);
    for await (const chunk of options.open()) {
      let rest = chunk;
      for (;;) {
        const cut = cutter.feed(rest);
        if (cut === -1) {
          await sendBytes(rest, rest === chunk);
          break;
        }
        await sendBytes(rest.subarray(0, cut), false);
        threads[thread].post({ type: 'end', part, last: false });
        startPart(cutter.line);
        rest = rest.subarray(cut);
      }
      if (stopReading) break;
    }
    threads[thread].post({ type: 'end', part, last: !stopReading });
    await waitFor(() => parts.every((p) => p.ended !== null));
    // Every part read: the threads' COPYs end (their rows are committed), then the cuts are checked in order.
    for (const t of threads) t.post({ type: 'close' });
    await waitFor(() => closed === threads.length);
    let rows = 0;
    for (let i = 0; i < parts.length; i++) {
      const ended = parts[i].ended!;
      if (ended.error) throw new FileError(ended.error.code, ended.error.message, ended.error.line);
      const next = parts[i + 1];
      if (next && (ended.pending || ended.nextLine !== next.firstLine)) return { rows: 0, candidateLines: [], miscut: true };
      rows += ended.rows;
    }
    if (rows === 0) throw noRecordError();
    return { rows, candidateLines, miscut: false };
  } finally {
    // A thread still running (after a failure) is stopped: its connection closes and its COPY is rolled back.
    await Promise.all(threads.map((t) => t.stop()));
  }
}

/**
 * Where to cut a file's bytes into parts: just after the first line feed past `partBytes` into a part where the
 * part's quotes are even. Counts physical lines (CRLF, LF and CR each one, as the CSV reader does) so that
 * `line` is the line a part starts on.
 */
export class PartCutter {
  /** The physical line at the position fed so far (after the last cut: the new part's first line). */
  line = 1;
  private partSize = 0;
  private quotes = 0;
  /** The last byte fed was a CR: a LF starting the next bytes completes it. */
  private pendingCr = false;

  constructor(private readonly partBytes: number) {}

  /** Feeds bytes; returns where in them to cut (the new part starts there), or -1 when nowhere. */
  feed(bytes: Uint8Array): number {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let from = 0;
    if (this.partSize < this.partBytes) {
      from = Math.min(buffer.length, this.partBytes - this.partSize);
      this.count(buffer, 0, from);
    }
    while (from < buffer.length) {
      const lf = buffer.indexOf(LF, from);
      const to = lf === -1 ? buffer.length : lf + 1;
      this.count(buffer, from, to);
      if (lf !== -1 && this.quotes % 2 === 0) {
        this.partSize = 0;
        this.quotes = 0;
        return to;
      }
      from = to;
    }
    return -1;
  }

  private count(buffer: Buffer, from: number, to: number): void {
    if (from >= to) return;
    this.partSize += to - from;
    for (let i = buffer.indexOf(QUOTE, from); i !== -1 && i < to; i = buffer.indexOf(QUOTE, i + 1)) this.quotes++;
    if (this.pendingCr) {
      // A CR ended the bytes before: one line break, whether or not a LF completes it here.
      this.line++;
      this.pendingCr = false;
      if (buffer[from] === LF) from++;
    }
    for (let i = buffer.indexOf(LF, from); i !== -1 && i < to; i = buffer.indexOf(LF, i + 1)) this.line++;
    for (let i = buffer.indexOf(CR, from); i !== -1 && i < to; i = buffer.indexOf(CR, i + 1)) {
      if (i + 1 === to) this.pendingCr = true;
      else if (buffer[i + 1] !== LF) this.line++;
    }
  }
}

/** Where the sender's messages go. `whole`: the bytes are a whole chunk the source no longer touches. */
interface ReadThread {
  post(message: ToThread, whole?: boolean): void;
  stop(): Promise<void>;
}

/** A reading thread, and what the sender posts it. */
function startThread(data: ReadThreadData, onMessage: (m: FromThread) => void, fail: (err: Error) => void): ReadThread {
  const thread = newWorker(data);
  let stopped = false;
  thread.on('message', onMessage);
  thread.on('error', fail);
  thread.on('exit', (code) => {
    if (!stopped) fail(new Error(`reading thread exited (${code})`));
  });
  return {
    post(message, whole = false) {
      if (message.type !== 'bytes') return thread.postMessage(message);
      // Moved to the thread: a whole chunk that owns its memory as it is, anything else as a copy of its own.
      const bytes = message.bytes;
      const owns = whole && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      const own = owns ? bytes : new Uint8Array(bytes);
      thread.postMessage({ ...message, bytes: own }, [own.buffer as ArrayBuffer]);
    },
    async stop() {
      stopped = true;
      await thread.terminate();
    },
  };
}

function newWorker(data: ReadThreadData): Worker {
  const options = { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 32 } };
  // Bundled JavaScript (dist/), beside the process's own bundle.
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./read-thread.mjs', import.meta.url), options);
  // TypeScript (tests, tsx): the thread registers the tsx loader first, whatever the process was started with.
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
  const script = new URL('./read-thread.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(boot, { ...options, eval: true });
}
