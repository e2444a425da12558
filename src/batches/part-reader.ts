import { once } from 'node:events';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { FileError, readFilePart, type FilePart } from '../csv/read-import-file.ts';
import { hashKey } from './key-filter.ts';
import { StagedRowWriter, type StageRules } from './staged-rows.ts';
import type { FromThread, ReadThreadData, ToThread } from './parallel-read.ts';

/**
 * What a reading thread does (see parallel-read.ts): reads the parts
 * of a file it is sent, one after the other — decoding, CSV, stage 1 — and writes the rows into the staging table
 * through a COPY on a connection of its own; for each piece of bytes read, it reports the hashes of the keys the
 * piece held (which also tells the sender to send more).
 */
export class PartReader {
  private readonly rules: StageRules;
  private readonly inbox: ToThread[] = [];
  private wake: (() => void) | null = null;
  /** Keys as (line, hash 1, hash 2) triples, reported as each piece of bytes is read. */
  private keys: number[] = [];
  private readonly scratch = new Int32Array(2);
  private readonly client: pg.Client;
  private copy: ReturnType<typeof copyFrom> | null = null;
  private copyDone: Promise<unknown> | null = null;
  private copyFailure: Error | null = null;

  constructor(
    private readonly data: ReadThreadData,
    private readonly report: (message: FromThread) => void,
  ) {
    this.rules = {
      columns: data.columns,
      catalogue: { online: new Set(data.catalogue.online), email: new Set(data.catalogue.email) },
      nirHashKey: data.nirHashKey,
    };
    this.client = new pg.Client({ connectionString: data.databaseUrl });
    // A dropped connection is reported by the COPY; without a listener it would end the thread first.
    this.client.on('error', () => {});
  }

  deliver(message: ToThread): void {
    this.inbox.push(message);
    this.wake?.();
  }

  /** Reads parts until told to close; then the COPY ends and its rows are committed. */
  async run(): Promise<void> {
    try {
      for (;;) {
        const message = await this.next();
        if (message.type === 'start') await this.readPart(message.part, message.firstLine);
        else if (message.type === 'close') break;
      }
      if (this.copy) {
        this.copy.end();
        await this.copyDone;
      }
      this.report({ type: 'closed' });
    } finally {
      await this.client.end().catch(() => {});
    }
  }

  private async next(): Promise<ToThread> {
    while (this.inbox.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    return this.inbox.shift()!;
  }

  private noteKey = (line: number, accountNumber: string): void => {
    hashKey(accountNumber, this.scratch, 0);
    this.keys.push(line, this.scratch[0], this.scratch[1]);
  };

  private async openCopy(): Promise<ReturnType<typeof copyFrom>> {
    if (this.copy) return this.copy;
    await this.client.connect();
    const copy = this.client.query(copyFrom(`COPY ${this.data.table} (${this.data.copyColumns}) FROM STDIN`));
    copy.on('error', (err: Error) => void (this.copyFailure ??= err));
    this.copyDone = once(copy, 'finish');
    this.copyDone.catch(() => {});
    this.copy = copy;
    return copy;
  }

  /** Writes COPY text, waiting while the connection is behind. */
  private async write(buffers: Buffer[]): Promise<void> {
    const stream = await this.openCopy();
    for (const buffer of buffers) {
      if (this.copyFailure) throw this.copyFailure;
      if (!stream.write(buffer)) await once(stream, 'drain');
    }
    if (this.copyFailure) throw this.copyFailure;
  }

  /** Acknowledges `bytes` bytes read, with the keys they held. */
  private acknowledge(part: number, bytes: number): void {
    this.report({ type: 'read', part, bytes, keys: Int32Array.from(this.keys) });
    this.keys = [];
  }

  private async readPart(part: number, firstLine: number): Promise<void> {
    const state: FilePart = { firstLine, last: false, pending: false, nextLine: firstLine };
    const writer = new StagedRowWriter(this.rules, this.noteKey);
    let out: Buffer[] = [];
    let unacknowledged = 0;
    let ended = false;
    const self = this;
    async function* bytes(): AsyncGenerator<Uint8Array> {
      for (;;) {
        // The bytes before are read: their rows go to the COPY, their keys back to the sender, which sends more.
        if (out.length > 0) await self.write(out);
        out = [];
        if (unacknowledged > 0) self.acknowledge(part, unacknowledged);
        unacknowledged = 0;
        const message = await self.next();
        if (message.type === 'end') {
          state.last = message.last;
          ended = true;
          return;
        }
        if (message.type !== 'bytes') throw new Error(`reading thread: ${message.type} inside part ${part}`);
        unacknowledged = message.bytes.byteLength;
        yield message.bytes;
      }
    }
    try {
      for await (const records of readFilePart(bytes(), this.data.layout, state)) {
        const full = writer.add(records);
        if (full.length > 0) out = out.concat(full);
      }
      await this.write(out.concat(writer.end()));
      this.acknowledge(part, unacknowledged);
      this.report({ type: 'ended', part, rows: writer.rows, pending: state.pending, nextLine: state.nextLine, error: null });
    } catch (err) {
      if (!(err instanceof FileError)) throw err;
      // The part's remaining bytes are read and dropped, acknowledged so that the sender never waits on them.
      this.acknowledge(part, unacknowledged);
      while (!ended) {
        const message = await this.next();
        if (message.type === 'end') ended = true;
        else if (message.type === 'bytes') this.acknowledge(part, message.bytes.byteLength);
      }
      const error = { code: err.code, message: err.message, line: err.line };
      this.report({ type: 'ended', part, rows: writer.rows, pending: false, nextLine: 0, error });
    }
  }
}
