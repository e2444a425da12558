/** The checks every fault test ends with: the batch and the portfolio against THE ORACLE, and the figures reported. */
import { expect } from 'vitest';
import type { Outcome } from '../../src/domain/types.ts';
import type { OracleFileResult, OracleState } from '../oracle/oracle.ts';
import type { Rig } from './rig.ts';

export interface Verdict {
  rows: number;
  /** Lines the oracle has and batch_row lacks. */
  rowsLost: number;
  /** batch_row lines the oracle does not have. */
  rowsExtra: number;
  outcomeMismatches: number;
  countsMismatch: boolean;
  /** Events beyond one per added/updated/removed row (by client and kind), and rows whose event is missing. */
  eventsDoubled: number;
  eventsMissing: number;
  proofFailuresOff: number;
  samples: string[];
}

const sortedCodes = (codes: readonly string[]) => [...codes].sort().join(',');

/**
 * Everything a fault test checks about one completed batch: the rows (each line once, outcome and codes as the
 * oracle says), the counts, the events and the failed proofs.
 */
export async function verifyBatch(rig: Rig, batchId: number, expected: OracleFileResult): Promise<Verdict> {
  const { db } = rig.db;
  const samples: string[] = [];
  const note = (s: string) => samples.length < 10 && samples.push(s);
  const rows = await db.selectFrom('batch_row').select(['line', 'outcome', 'codes', 'client_key']).where('batch_id', '=', batchId).orderBy('line').execute();
  const got = new Map<number, (typeof rows)[number]>();
  let duplicateLines = 0;
  for (const r of rows) {
    if (got.has(r.line)) duplicateLines++;
    got.set(r.line, r);
  }
  let rowsLost = 0;
  let outcomeMismatches = 0;
  const want = new Map(expected.results.map((r) => [r.line, r]));
  for (const e of expected.results) {
    const r = got.get(e.line);
    if (!r) {
      rowsLost++;
      note(`line ${e.line} missing`);
      continue;
    }
    if (r.outcome !== e.outcome || sortedCodes(r.codes) !== sortedCodes(e.codes)) {
      outcomeMismatches++;
      note(`line ${e.line}: got ${r.outcome} [${r.codes}] want ${e.outcome} [${e.codes}]`);
    }
  }
  const rowsExtra = rows.filter((r) => !want.has(r.line)).length + duplicateLines;

  const batch = await db.selectFrom('batch').selectAll().where('id', '=', batchId).executeTakeFirstOrThrow();
  const tally: Record<Outcome, number> = { added: 0, removed: 0, updated: 0, unchanged: 0, rejected: 0 };
  for (const e of expected.results) tally[e.outcome]++;
  const sum = batch.added + batch.removed + batch.updated + batch.unchanged + batch.rejected;
  const countsMismatch =
    batch.total !== expected.results.length || sum !== batch.total ||
    (Object.keys(tally) as Outcome[]).some((o) => batch[o] !== tally[o]);
  if (countsMismatch) note(`counts ${JSON.stringify({ total: batch.total, added: batch.added, removed: batch.removed, updated: batch.updated, unchanged: batch.unchanged, rejected: batch.rejected })} want ${JSON.stringify(tally)}`);

  // One event per added/updated/removed line, of that kind.
  const events = await db.selectFrom('portfolio_history').select(['line', 'kind', 'account_number']).where('batch_id', '=', batchId).execute();
  const eventsByLine = new Map<number, number>();
  for (const ev of events) eventsByLine.set(ev.line, (eventsByLine.get(ev.line) ?? 0) + 1);
  let eventsMissing = 0;
  let eventsDoubled = 0;
  const changing = expected.results.filter((e) => e.outcome === 'added' || e.outcome === 'updated' || e.outcome === 'removed');
  for (const e of changing) {
    const n = eventsByLine.get(e.line) ?? 0;
    if (n === 0) {
      eventsMissing++;
      note(`no event for line ${e.line} (${e.outcome})`);
    }
    if (n > 1) eventsDoubled += n - 1;
  }
  const changingLines = new Set(changing.map((e) => e.line));
  eventsDoubled += events.filter((ev) => !changingLines.has(ev.line)).length;
  // Doubles by client too: a client changed twice in the same batch would be a row applied twice.
  const byClient = new Map<string, number>();
  for (const ev of events) byClient.set(`${ev.account_number}|${ev.kind}`, (byClient.get(`${ev.account_number}|${ev.kind}`) ?? 0) + 1);
  for (const [k, n] of byClient) if (n > 1) {
    eventsDoubled += n - 1;
    note(`client event doubled ${k} ×${n}`);
  }

  // One failed proof per row that failed its proof.
  const proofs = await db.selectFrom('proof_failure').select(['line']).where('batch_id', '=', batchId).execute();
  const wantProofs = new Set(
    expected.results.filter((e) => e.codes.some((c) => c === 'AMOUNT_MISMATCH' || c === 'NIR_MISMATCH')).map((e) => e.line),
  );
  const proofCounts = new Map<number, number>();
  for (const p of proofs) proofCounts.set(p.line, (proofCounts.get(p.line) ?? 0) + 1);
  let proofFailuresOff = 0;
  for (const line of wantProofs) if (proofCounts.get(line) !== 1) proofFailuresOff++;
  for (const line of proofCounts.keys()) if (!wantProofs.has(line)) proofFailuresOff++;
  if (proofFailuresOff) note(`proof_failure: ${proofs.length} rows, ${wantProofs.size} expected, ${proofFailuresOff} lines off`);

  return { rows: rows.length, rowsLost, rowsExtra, outcomeMismatches, countsMismatch, eventsDoubled, eventsMissing, proofFailuresOff, samples };
}

/** The firm's portfolio as canonical lines, and the oracle's. Differences (up to 10) are returned. */
export async function portfolioDifferences(rig: Rig, declarantId: number, expected: OracleState['portfolio']): Promise<{ count: number; samples: string[] }> {
  const rows = await rig.db.db
    .selectFrom('portfolio_client')
    .select(['account_number', 'client_case', 'siren', 'online_services', 'email_services'])
    .where('declarant_id', '=', declarantId)
    .execute();
  const line = (acc: string, kase: string, siren: string | null, online: readonly string[], email: readonly string[]) =>
    `${acc}|${kase}|${siren ?? ''}|${[...online].sort().join('+')}|${[...email].sort().join('+')}`;
  const got = new Set(rows.map((r) => line(r.account_number, r.client_case, r.siren, r.online_services, r.email_services)));
  const want = new Set([...expected].map(([acc, e]) => line(acc, e.case, e.siren, e.onlineServices, e.emailServices)));
  const samples: string[] = [];
  let count = 0;
  for (const g of got) if (!want.has(g)) {
    count++;
    if (samples.length < 10) samples.push(`unexpected ${g}`);
  }
  for (const w of want) if (!got.has(w)) {
    count++;
    if (samples.length < 10) samples.push(`missing ${w}`);
  }
  return { count, samples };
}

/** verifyBatch and portfolioDifferences, asserted: every figure must be zero. */
export async function expectMatchesOracle(
  rig: Rig,
  batchId: number,
  declarantId: number,
  expected: OracleFileResult,
  /** The portfolio expected now; null when a later batch has changed it since (it is checked after that one). */
  portfolio: OracleState['portfolio'] | null = expected.portfolio,
) {
  const verdict = await verifyBatch(rig, batchId, expected);
  const portfolioDiff = portfolio === null ? { count: 0, samples: [] } : await portfolioDifferences(rig, declarantId, portfolio);
  const detail = [...verdict.samples, ...portfolioDiff.samples].join('\n');
  expect(verdict.rows, detail).toBe(expected.results.length);
  expect(verdict.rowsLost, detail).toBe(0);
  expect(verdict.rowsExtra, detail).toBe(0);
  expect(verdict.outcomeMismatches, detail).toBe(0);
  expect(verdict.countsMismatch, detail).toBe(false);
  expect(verdict.eventsDoubled, detail).toBe(0);
  expect(verdict.eventsMissing, detail).toBe(0);
  expect(verdict.proofFailuresOff, detail).toBe(0);
  expect(portfolioDiff.count, detail).toBe(0);
  return verdict;
}

// Figures ----------------------------------------------------------------------------------------------------------------

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const seconds = (ms: number | null) => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(2)}s`);

/** One summary line per test, for the lead to quote. */
export function report(name: string, figures: Record<string, string | number | boolean | null>, recoveries?: number[]): void {
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v}`);
  if (recoveries) {
    parts.push(`recovery_p50=${seconds(percentile(recoveries, 50))}`, `recovery_max=${seconds(recoveries.length ? Math.max(...recoveries) : null)}`);
  }
  console.log(`[reliability] ${name}: ${parts.join(' ')}`);
}
