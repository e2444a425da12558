import type { Batch } from '../db/database.ts';

/** The JSON shape of a batch, as the API documents it. */
export function batchJson(b: Batch) {
  return {
    id: b.id,
    status: b.status,
    mode: b.mode,
    filename: b.filename,
    sha256: b.sha256,
    encoding: b.encoding,
    delimiter: b.delimiter,
    counts: {
      total: b.total,
      added: b.added,
      removed: b.removed,
      updated: b.updated,
      unchanged: b.unchanged,
      rejected: b.rejected,
    },
    error: b.error_code ? { code: b.error_code, message: b.error_message ?? '', line: b.error_line } : null,
    warnings: b.warnings,
    duplicate_of: b.duplicate_of,
    created_at: b.created_at,
    finished_at: b.finished_at,
  };
}

export function rowJson(r: {
  line: number;
  action: string | null;
  client_case: string | null;
  account_number: string | null;
  siren: string | null;
  outcome: string | null;
  codes: string[];
  message: string;
}) {
  return {
    line: r.line,
    action: r.action,
    case: r.client_case,
    account_number: r.account_number,
    siren: r.siren,
    outcome: r.outcome,
    codes: r.codes,
    message: r.message,
  };
}

