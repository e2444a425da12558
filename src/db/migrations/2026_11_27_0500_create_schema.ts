import { type Kysely, sql } from 'kysely';

// Frozen: never import application code here, never change once landed.

// The tables written once per row of an import (upload_chunk, batch_row, portfolio_client, portfolio_event,
// proof_failure) carry no foreign keys: a row-level RI trigger per inserted row cost more than the insert
// itself at a million rows. Only the pipeline writes them, always with ids it has just read.

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE declarant (
      id bigserial PRIMARY KEY,
      name text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE app_user (
      id bigserial PRIMARY KEY,
      declarant_id bigint NOT NULL REFERENCES declarant(id),
      email text NOT NULL UNIQUE,
      password_hash text NOT NULL,
      is_admin boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE api_token (
      id bigserial PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES app_user(id),
      token_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );

    CREATE TABLE web_session (
      id_hash text PRIMARY KEY,
      user_id bigint NOT NULL REFERENCES app_user(id),
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX web_session_user_idx ON web_session (user_id);

    CREATE TABLE login_throttle (
      key text PRIMARY KEY,
      failures integer NOT NULL DEFAULT 0,
      window_start timestamptz NOT NULL DEFAULT now(),
      blocked_until timestamptz
    );

    CREATE TABLE service (
      code text PRIMARY KEY,
      channel text NOT NULL CHECK (channel IN ('online', 'email')),
      label text NOT NULL
    );
    INSERT INTO service (code, channel, label) VALUES
      ('DECLARER_PAYER', 'online', 'Déclarer et payer'),
      ('CONSULTER_COMPTE', 'online', 'Consulter le compte'),
      ('ATTESTATIONS', 'online', 'Attestations'),
      ('DELAIS_PAIEMENT', 'online', 'Délais de paiement'),
      ('MESSAGERIE', 'online', 'Messagerie'),
      ('COURRIEL_ECHEANCES', 'email', 'Courriel des échéances'),
      ('COURRIEL_ATTESTATIONS', 'email', 'Courriel des attestations'),
      ('COURRIEL_ACTUALITES', 'email', 'Courriel des actualités');

    CREATE TABLE account (
      account_number text PRIMARY KEY,
      kind text NOT NULL,
      siren text,
      nir_hash text,
      reference_amount_cents bigint,
      status text NOT NULL CHECK (status IN ('active', 'struck_off')),
      name text NOT NULL DEFAULT '',
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX account_siren_idx ON account (siren);

    CREATE TABLE upload (
      id bigserial PRIMARY KEY,
      declarant_id bigint NOT NULL REFERENCES declarant(id),
      filename text NOT NULL,
      size bigint NOT NULL,
      sha256 text NOT NULL,
      scan jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      purged_at timestamptz
    );

    CREATE TABLE upload_chunk (
      upload_id bigint NOT NULL,
      seq integer NOT NULL,
      data bytea NOT NULL,
      PRIMARY KEY (upload_id, seq)
    );

    CREATE TABLE batch (
      id bigserial PRIMARY KEY,
      declarant_id bigint NOT NULL REFERENCES declarant(id),
      user_id bigint NOT NULL REFERENCES app_user(id),
      upload_id bigint NOT NULL REFERENCES upload(id),
      mode text NOT NULL CHECK (mode IN ('apply', 'dry_run')),
      status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'validating', 'applying', 'completed', 'failed', 'cancelled')),
      filename text NOT NULL,
      sha256 text NOT NULL,
      size bigint NOT NULL,
      encoding text,
      delimiter text,
      line_ending text,
      bom boolean,
      header_cells jsonb,
      columns jsonb,
      warnings jsonb NOT NULL DEFAULT '[]',
      duplicate_of bigint REFERENCES batch(id),
      source_batch_id bigint REFERENCES batch(id),
      error_code text,
      error_message text,
      error_line integer,
      total integer NOT NULL DEFAULT 0,
      added integer NOT NULL DEFAULT 0,
      removed integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      unchanged integer NOT NULL DEFAULT 0,
      rejected integer NOT NULL DEFAULT 0,
      code_counts jsonb NOT NULL DEFAULT '{}',
      bytes_read bigint NOT NULL DEFAULT 0,
      staged boolean NOT NULL DEFAULT false,
      keys_resolved boolean NOT NULL DEFAULT false,
      applied_through integer NOT NULL DEFAULT 0,
      cancel_requested boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      staged_at timestamptz,
      resolved_at timestamptz,
      finished_at timestamptz
    );
    CREATE INDEX batch_declarant_idx ON batch (declarant_id, id DESC);
    CREATE INDEX batch_declarant_sha_idx ON batch (declarant_id, sha256, id DESC);
    CREATE INDEX batch_unfinished_idx ON batch (status) WHERE status IN ('queued', 'validating', 'applying');

    CREATE TABLE batch_row (
      batch_id bigint NOT NULL,
      line integer NOT NULL,
      action text,
      client_case text,
      siren text,
      siret text,
      account_number text,
      amount_cents bigint,
      nir_hash text,
      nir_masked text,
      online_services text[],
      email_services text[],
      name text,
      client_key text,
      codes text[] NOT NULL DEFAULT '{}',
      outcome text,
      message text NOT NULL DEFAULT '',
      PRIMARY KEY (batch_id, line)
    );
    -- The batch page's search (by account number, by SIREN; a SIRET is searched through its SIREN) and its
    -- filter by rejection code, fast on a batch of a million rows.
    CREATE INDEX batch_row_account_idx ON batch_row (batch_id, account_number);
    CREATE INDEX batch_row_siren_idx ON batch_row (batch_id, siren);
    CREATE INDEX batch_row_rejected_idx ON batch_row (batch_id, line) WHERE outcome = 'rejected';

    CREATE TABLE portfolio_client (
      declarant_id bigint NOT NULL,
      account_number text NOT NULL,
      client_case text NOT NULL,
      siren text,
      name text NOT NULL DEFAULT '',
      online_services text[] NOT NULL DEFAULT '{}',
      email_services text[] NOT NULL DEFAULT '{}',
      added_at timestamptz NOT NULL DEFAULT now(),
      added_by_user_id bigint,
      added_by_batch_id bigint,
      updated_at timestamptz,
      updated_by_batch_id bigint,
      PRIMARY KEY (declarant_id, account_number)
    );
    CREATE INDEX portfolio_client_siren_idx ON portfolio_client (declarant_id, siren);

    CREATE TABLE portfolio_event (
      declarant_id bigint NOT NULL,
      account_number text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('added', 'updated', 'removed')),
      at timestamptz NOT NULL DEFAULT now(),
      user_id bigint,
      batch_id bigint NOT NULL,
      line integer NOT NULL,
      PRIMARY KEY (batch_id, line)
    );
    CREATE INDEX portfolio_event_client_idx ON portfolio_event (declarant_id, account_number, at);

    CREATE TABLE proof_failure (
      declarant_id bigint NOT NULL,
      account_number text NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      batch_id bigint NOT NULL,
      line integer NOT NULL,
      PRIMARY KEY (batch_id, line)
    );
    CREATE INDEX proof_failure_lookup_idx ON proof_failure (declarant_id, account_number, at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE proof_failure, portfolio_event, portfolio_client, batch_row, batch, upload_chunk, upload,
      account, service, login_throttle, web_session, api_token, app_user, declarant;
  `.execute(db);
}
