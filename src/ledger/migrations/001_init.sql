-- The case ledger: every finished case, its deliveries, the audit trail and the
-- shared-data look-ups, kept for retention.ledger. Plain PostgreSQL: runs on PostgreSQL, PGlite,
-- openGauss and KingbaseES alike (no extensions, no PostgreSQL-only index types).

CREATE TABLE ledger_cases (
  case_id     text PRIMARY KEY,
  item_code   text NOT NULL,
  status      text NOT NULL,          -- completed | failed | partially_failed
  accepted_at timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,   -- when its last delivery ended (what retention counts from)
  record      jsonb NOT NULL,         -- the case store's record: canonical case, hash, acceptedAt, targets
  archived_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_cases_item_code ON ledger_cases (item_code, accepted_at);
CREATE INDEX ledger_cases_accepted_at ON ledger_cases (accepted_at);
CREATE INDEX ledger_cases_finished_at ON ledger_cases (finished_at);
CREATE INDEX ledger_cases_status ON ledger_cases (status, accepted_at);

CREATE TABLE ledger_deliveries (
  case_id      text NOT NULL REFERENCES ledger_cases (case_id) ON DELETE CASCADE,
  position     integer NOT NULL,      -- order of the case's targets, as the status API lists them
  system_id    text NOT NULL,
  level        text,                  -- national | provincial | city, as configured when archived
  status       text NOT NULL,         -- completed | rejected | dead
  discarded    boolean NOT NULL DEFAULT false,
  attempts     integer NOT NULL,
  receipt_no   text,
  last_error   text,
  result       jsonb,
  history      jsonb NOT NULL,        -- [{at, event, detail?}], oldest first
  accepted_at  timestamptz NOT NULL,  -- copied from the case, so per-system reports need no join
  delivered_at timestamptz,           -- first acknowledgement
  completed_at timestamptz,           -- when the result came in
  ended_at     timestamptz NOT NULL,
  PRIMARY KEY (case_id, system_id)
);
CREATE INDEX ledger_deliveries_system ON ledger_deliveries (system_id, accepted_at);
CREATE INDEX ledger_deliveries_status ON ledger_deliveries (status, accepted_at);
CREATE INDEX ledger_deliveries_receipt ON ledger_deliveries (system_id, receipt_no);
CREATE INDEX ledger_deliveries_accepted_at ON ledger_deliveries (accepted_at);

CREATE TABLE ledger_audit (
  id      bigserial PRIMARY KEY,
  at      timestamptz NOT NULL,
  who     text NOT NULL,
  role    text,
  action  text NOT NULL,
  target  text NOT NULL,
  reason  text,
  detail  text,
  case_id text
);
CREATE INDEX ledger_audit_at ON ledger_audit (at);
CREATE INDEX ledger_audit_action ON ledger_audit (action, at);
CREATE INDEX ledger_audit_who ON ledger_audit (who, at);
CREATE INDEX ledger_audit_case ON ledger_audit (case_id, at);

-- Shared-data look-ups, one row per query; written by a later change.
CREATE TABLE ledger_lookups (
  query_id    text PRIMARY KEY,
  at          timestamptz NOT NULL,
  who         text NOT NULL,
  case_id     text NOT NULL,
  purpose     text NOT NULL,
  id_masked   text NOT NULL,          -- the ID number masked, never in full
  kinds       jsonb NOT NULL,
  documents   jsonb NOT NULL          -- [{kind, source, status, ms}]
);
CREATE INDEX ledger_lookups_at ON ledger_lookups (at);
CREATE INDEX ledger_lookups_case ON ledger_lookups (case_id, at);
