import type { Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Database } from '../db/database.ts';
import type { Outcome, ServiceCatalogue } from '../domain/types.ts';
import { openImportFile, FileError } from '../csv/read-import-file.ts';
import type { ScanResult } from '../csv/scan.ts';
import { checkRow, type CheckedRow } from '../rows/check-row.ts';
import { maskNir } from '../identifiers/nir.ts';
import { joinMessages, messageFor } from '../domain/messages.ts';
import { hashNir } from '../users/secret.ts';
import { copyCodeArray, copyNumber, copyText } from './copy-text.ts';
import { judgeRow } from './judge.ts';
import { lookupAccounts, lookupSirens } from './judge-lookups.ts';
import { KeyFilter } from './key-filter.ts';

export { FileError };

export interface StageInput {
  batchId: number;
  declarantId: number;
  open: () => AsyncIterable<Uint8Array>;
  /** The upload's scan, when stored with it: saves a pass over the bytes. */
  scan?: ScanResult;
  catalogue: ServiceCatalogue;
  nirHashKey: string;
  /** Rows looked up and judged together. */
  chunkSize: number;
  onProgress?: (bytesRead: number) => void;
}

export interface StageResult {
  total: number;
  counts: Record<Outcome, number>;
  codeCounts: Record<string, number>;
}

const COPY_COLUMNS =
  'batch_id, line, action, client_case, siren, siret, account_number, amount_cents, nir_hash, nir_masked, ' +
  'online_services, email_services, name, client_key, codes, outcome, message';

interface Checked {
  line: number;
  row: CheckedRow;
}

/**
 * Reads the whole file and judges every row — stage 1 (format), stage 3 (registry, proof lock) and stage 4
 * (portfolio) against the state as it stands now, then stage 2 (duplicates) — into batch_row, in one
 * transaction, through COPY in large writes. The outcomes are the plan; nothing is applied to any portfolio
 * here. A file-level failure throws FileError and leaves no row behind.
 *
 * The caller runs this only once the declarant's earlier batches have ended, so the state every row is
 * judged against cannot move under it. Each chunk's lookups run while the next chunk is being parsed.
 */
export async function stageBatch(pool: pg.Pool, db: Kysely<Database>, input: StageInput): Promise<StageResult> {
  let bytesRead = 0;
  const countingOpen = () => {
    const source = input.open();
    return (async function* () {
      for await (const chunk of source) {
        bytesRead += chunk.length;
        input.onProgress?.(bytesRead);
        yield chunk;
      }
    })();
  };
  const { meta, records } = await openImportFile(countingOpen, input.scan);
  const batchIdText = String(input.batchId);
  const counts: Record<Outcome, number> = { added: 0, removed: 0, updated: 0, unchanged: 0, rejected: 0 };
  const codeCounts: Record<string, number> = {};
  const keys = new KeyFilter();
  const candidateKeys = new Set<string>();
  let total = 0;

  /** Looks up, judges and writes one chunk as COPY text. */
  const judgeChunk = async (chunk: Checked[]): Promise<string> => {
    const keyOf = new Array<string | null>(chunk.length).fill(null);
    const sirenOnly = new Set<string>();
    const accounts = new Set<string>();
    for (const { row } of chunk) {
      if (row.codes.length > 0) continue;
      if (row.accountNumber !== null) accounts.add(row.accountNumber);
      else if (row.siren !== null) sirenOnly.add(row.siren);
    }
    const sirenFacts = await lookupSirens(db, input.declarantId, [...sirenOnly]);
    for (const f of sirenFacts.values()) if (f.portfolioAccounts.length === 1) accounts.add(f.portfolioAccounts[0]);
    const facts = await lookupAccounts(db, input.declarantId, [...accounts]);

    let text = '';
    for (let i = 0; i < chunk.length; i++) {
      const { line, row } = chunk[i];
      let key: string | null = null;
      let preCodes: string[] = row.codes;
      let accountKey: string | null = null;
      let sirenKnown = false;
      if (row.codes.length === 0) {
        if (row.accountNumber !== null) {
          key = accountKey = row.accountNumber;
        } else {
          const s = sirenFacts.get(row.siren!)!;
          sirenKnown = s.known;
          if (s.portfolioAccounts.length === 1) key = accountKey = s.portfolioAccounts[0];
          else key = row.siren;
          if (s.known && s.portfolioAccounts.length > 1) preCodes = ['CLIENT_AMBIGUOUS'];
        }
      }
      const f = accountKey === null ? undefined : facts.get(accountKey);
      const nirHash = row.nir === null ? null : hashNir(input.nirHashKey, row.nir);
      const j = judgeRow({
        line,
        action: row.action,
        clientCase: row.clientCase,
        siren: row.siren,
        accountNumber: row.accountNumber,
        amountCents: row.amountCents,
        nirHash,
        onlineServices: row.onlineServices,
        emailServices: row.emailServices,
        codes: preCodes,
        account: f?.account ?? null,
        sirenKnown,
        portfolio: f?.portfolio ?? null,
        recentProofFailures: f?.recentProofFailures ?? 0,
      });
      if (key !== null && keys.addAndTest(key)) candidateKeys.add(key);
      counts[j.outcome]++;
      for (const c of j.codes) codeCounts[c] = (codeCounts[c] ?? 0) + 1;
      const message = row.codes.length > 0 ? row.message : joinMessages(j.codes.map((c) => messageFor(c)));
      text +=
        batchIdText + '\t' + line + '\t' +
        copyText(row.action) + '\t' +
        copyText(row.clientCase) + '\t' +
        copyText(row.siren) + '\t' +
        copyText(row.siret) + '\t' +
        copyText(row.accountNumber) + '\t' +
        copyNumber(row.amountCents) + '\t' +
        copyText(nirHash) + '\t' +
        copyText(row.nir === null ? null : maskNir(row.nir)) + '\t' +
        copyCodeArray(row.onlineServices) + '\t' +
        copyCodeArray(row.emailServices) + '\t' +
        copyText(row.name) + '\t' +
        copyText(key) + '\t' +
        copyCodeArray(j.codes) + '\t' +
        j.outcome + '\t' +
        copyText(message) + '\n';
    }
    return text;
  };

  async function* copyText_(): AsyncGenerator<string> {
    let pending: Promise<string> | undefined;
    let chunk: Checked[] = [];
    const flush = async function* (next: Checked[]) {
      const judged = judgeChunk(next);
      judged.catch(() => {}); // awaited below; this only silences the "unhandled" warning in between
      if (pending) yield await pending;
      pending = judged;
    };
    for await (const { line, cells } of records) {
      chunk.push({ line, row: checkRow(meta.columns, cells, input.catalogue) });
      total++;
      if (chunk.length >= input.chunkSize) {
        yield* flush(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) yield* flush(chunk);
    if (pending) yield await pending;
  }

  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('DELETE FROM batch_row WHERE batch_id = $1', [input.batchId]);
    await pipeline(Readable.from(copyText_()), client.query(copyFrom(`COPY batch_row (${COPY_COLUMNS}) FROM STDIN`)));
    await markDuplicates(client, input.batchId, [...candidateKeys], counts, codeCounts);
    await client.query(
      `UPDATE batch SET staged = true, staged_at = clock_timestamp(), total = $2, bytes_read = size, encoding = $3,
         delimiter = $4, line_ending = $5, bom = $6, header_cells = $7, columns = $8, warnings = $9, code_counts = $10
       WHERE id = $1`,
      [
        input.batchId,
        total,
        meta.encoding,
        meta.delimiter,
        meta.lineEnding,
        meta.bom,
        JSON.stringify(meta.headerCells),
        JSON.stringify(meta.columns),
        JSON.stringify(meta.warnings),
        JSON.stringify(codeCounts),
      ],
    );
    await client.query('COMMIT');
  } catch (err) {
    // After an aborted COPY the connection's state is not worth trusting: roll back, then discard it.
    await client.query('ROLLBACK').catch(() => {});
    broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
  return { total, counts, codeCounts };
}

/**
 * Stage 2: a key already taken by an earlier row of the file (that passed stage 1) makes the later rows
 * DUPLICATE_IN_FILE, whatever they were judged. Only keys the filter flagged are looked at.
 */
async function markDuplicates(
  client: pg.PoolClient,
  batchId: number,
  candidates: string[],
  counts: Record<Outcome, number>,
  codeCounts: Record<string, number>,
): Promise<void> {
  if (candidates.length === 0) return;
  const { rows } = await client.query<{ line: number; first: number; codes: string[]; outcome: Outcome }>(
    `SELECT line, first, codes, outcome FROM (
       SELECT line, codes, outcome, min(line) OVER (PARTITION BY client_key) AS first
       FROM batch_row WHERE batch_id = $1 AND client_key = ANY($2::text[])
     ) d WHERE line <> first`,
    [batchId, candidates],
  );
  if (rows.length === 0) return;
  for (const r of rows) {
    counts[r.outcome]--;
    counts.rejected++;
    for (const c of r.codes) codeCounts[c]--;
    codeCounts.DUPLICATE_IN_FILE = (codeCounts.DUPLICATE_IN_FILE ?? 0) + 1;
  }
  for (const c of Object.keys(codeCounts)) if (codeCounts[c] === 0) delete codeCounts[c];
  await client.query(
    `UPDATE batch_row r SET outcome = 'rejected', codes = '{DUPLICATE_IN_FILE}', message = d.message
     FROM unnest($2::int[], $3::text[]) AS d(line, message)
     WHERE r.batch_id = $1 AND r.line = d.line`,
    [batchId, rows.map((r) => r.line), rows.map((r) => messageFor('DUPLICATE_IN_FILE', { line: r.first }))],
  );
}
