import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { ScanResult } from '../csv/scan.ts';

// int8 columns are parsed as numbers (see connect.ts): ids and counts fit.
type Timestamp = Date;
type Id = number;
type BigintCount = number;
type Json<T> = ColumnType<T, string, string>;

export interface DeclarantTable {
  id: Generated<Id>;
  name: string;
  created_at: Generated<Timestamp>;
}

export interface AppUserTable {
  id: Generated<Id>;
  declarant_id: number;
  email: string;
  password_hash: string;
  is_admin: Generated<boolean>;
  created_at: Generated<Timestamp>;
}

export interface ApiTokenTable {
  id: Generated<Id>;
  user_id: number;
  token_hash: string;
  created_at: Generated<Timestamp>;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface WebSessionTable {
  id_hash: string;
  user_id: number;
  created_at: Generated<Timestamp>;
  last_seen_at: Generated<Timestamp>;
}

export interface LoginThrottleTable {
  key: string;
  failures: Generated<number>;
  window_start: Generated<Timestamp>;
  blocked_until: Timestamp | null;
}

export interface ServiceTable {
  code: string;
  channel: 'online' | 'email';
  label: string;
}

export interface AccountTable {
  account_number: string;
  kind: string;
  siren: string | null;
  nir_hash: string | null;
  reference_amount_cents: BigintCount | null;
  status: 'active' | 'struck_off';
  name: Generated<string>;
  updated_at: Generated<Timestamp>;
}

export interface UploadTable {
  id: Generated<Id>;
  declarant_id: number;
  filename: string;
  size: BigintCount;
  sha256: string;
  /** What the single pass over the bytes found (encoding, NUL bytes…), so readers need not scan again. */
  scan: Json<ScanResult> | null;
  created_at: Generated<Timestamp>;
  purged_at: Timestamp | null;
}

export interface UploadChunkTable {
  upload_id: number;
  seq: number;
  data: Buffer;
}

export type BatchStatus = 'queued' | 'validating' | 'applying' | 'completed' | 'failed' | 'cancelled';
export type BatchMode = 'apply' | 'dry_run';

export interface BatchWarning {
  code: 'UNKNOWN_COLUMN';
  column: string;
  message: string;
}

export interface BatchTable {
  id: Generated<Id>;
  declarant_id: number;
  user_id: number;
  upload_id: number;
  mode: BatchMode;
  status: Generated<BatchStatus>;
  filename: string;
  sha256: string;
  size: BigintCount;
  encoding: string | null;
  delimiter: string | null;
  line_ending: string | null;
  bom: boolean | null;
  header_cells: Json<string[]> | null;
  columns: Json<(string | null)[]> | null;
  warnings: ColumnType<BatchWarning[], string | undefined, string>;
  duplicate_of: number | null;
  source_batch_id: number | null;
  error_code: string | null;
  error_message: string | null;
  error_line: number | null;
  total: Generated<number>;
  added: Generated<number>;
  removed: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  rejected: Generated<number>;
  code_counts: ColumnType<Record<string, number>, string | undefined, string>;
  bytes_read: Generated<number>;
  staged: Generated<boolean>;
  keys_resolved: Generated<boolean>;
  applied_through: Generated<number>;
  /** How the batch is cut into chunks, fixed when it starts applying (see planChunks). */
  chunk_lines: number | null;
  chunk_origin: number | null;
  last_line: number | null;
  cancel_requested: Generated<boolean>;
  created_at: Generated<Timestamp>;
  started_at: Timestamp | null;
  /** End of phase 1 (read and stage-1 checks). */
  staged_at: Timestamp | null;
  /** End of stage 2 (client keys, duplicates), when applying starts. */
  resolved_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface BatchRowTable {
  batch_id: number;
  line: number;
  action: string | null;
  client_case: string | null;
  siren: string | null;
  siret: string | null;
  account_number: string | null;
  amount_cents: BigintCount | null;
  nir_masked: string | null;
  online_services: string[] | null;
  email_services: string[] | null;
  name: string | null;
  client_key: string | null;
  codes: ColumnType<string[], string[] | undefined, string[]>;
  outcome: string | null;
  message: ColumnType<string, string | undefined, string>;
  /** For an added client: the registry's SIREN and the name the portfolio takes. */
  client_siren: string | null;
  client_name: string | null;
}

export interface BatchChunkTable {
  batch_id: number;
  first_line: number;
}

export interface PortfolioClientTable {
  declarant_id: number;
  account_number: string;
  client_case: string;
  siren: string | null;
  name: Generated<string>;
  online_services: ColumnType<string[], string[] | undefined, string[]>;
  email_services: ColumnType<string[], string[] | undefined, string[]>;
  added_at: Generated<Timestamp>;
  added_by_user_id: number | null;
  added_by_batch_id: number | null;
  /** The line of the add in its batch (null for a client added before adds were kept on this row). */
  added_line: number | null;
  updated_at: Timestamp | null;
  updated_by_batch_id: number | null;
}

export interface PortfolioEventTable {
  declarant_id: number;
  account_number: string;
  kind: 'added' | 'updated' | 'removed';
  at: Generated<Timestamp>;
  user_id: number | null;
  batch_id: number;
  line: number;
  /** For a removal: the add it ends (see portfolio_history). */
  added_at: Timestamp | null;
  added_by_user_id: number | null;
  added_by_batch_id: number | null;
  added_line: number | null;
}

/** A view: every event of every client — explicit events, and the adds kept on client rows and removal events. */
export interface PortfolioHistoryView {
  declarant_id: number;
  account_number: string;
  kind: 'added' | 'updated' | 'removed';
  at: Timestamp;
  user_id: number | null;
  batch_id: number;
  line: number;
}

export interface ProofFailureTable {
  declarant_id: number;
  account_number: string;
  at: Generated<Timestamp>;
  batch_id: number;
  line: number;
}

export interface Database {
  declarant: DeclarantTable;
  app_user: AppUserTable;
  api_token: ApiTokenTable;
  web_session: WebSessionTable;
  login_throttle: LoginThrottleTable;
  service: ServiceTable;
  account: AccountTable;
  upload: UploadTable;
  upload_chunk: UploadChunkTable;
  batch_chunk: BatchChunkTable;
  batch: BatchTable;
  batch_row: BatchRowTable;
  portfolio_client: PortfolioClientTable;
  portfolio_event: PortfolioEventTable;
  portfolio_history: PortfolioHistoryView;
  proof_failure: ProofFailureTable;
}

export type Declarant = Selectable<DeclarantTable>;
export type User = Selectable<AppUserTable>;
export type Batch = Selectable<BatchTable>;
export type NewBatch = Insertable<BatchTable>;
export type BatchUpdate = Updateable<BatchTable>;
export type BatchRow = Selectable<BatchRowTable>;
export type Account = Selectable<AccountTable>;
export type PortfolioClient = Selectable<PortfolioClientTable>;
