-- The audit trail and the shared-data look-ups are drained from their Redis streams (the durable
-- buffer every process writes to) into these tables. The stream entry id is the key, so a drain
-- repeated after a crash or an outage writes nothing twice; (stream_ms, stream_seq) is its order,
-- newest first, as the API pages it.

ALTER TABLE ledger_audit ADD COLUMN stream_ms bigint;
ALTER TABLE ledger_audit ADD COLUMN stream_seq bigint;
CREATE UNIQUE INDEX ledger_audit_stream ON ledger_audit (stream_ms, stream_seq);
CREATE INDEX ledger_audit_target ON ledger_audit (target, at);

-- One look-up as ops list it (never the ID number: its mask is id_masked, its keyed hash person_key).
ALTER TABLE ledger_lookups ADD COLUMN stream_ms bigint;
ALTER TABLE ledger_lookups ADD COLUMN stream_seq bigint;
ALTER TABLE ledger_lookups ADD COLUMN person_key text;
ALTER TABLE ledger_lookups ADD COLUMN listing jsonb;
CREATE UNIQUE INDEX ledger_lookups_stream ON ledger_lookups (stream_ms, stream_seq);
CREATE INDEX ledger_lookups_person ON ledger_lookups (person_key, at);
CREATE INDEX ledger_lookups_purpose ON ledger_lookups (purpose, at);

-- Small secrets that must outlive a Redis flush: the key the look-ups' person hashes are made
-- with (without it, a person's earlier look-ups could no longer be found).
CREATE TABLE ledger_secrets (
  name  text PRIMARY KEY,
  value text NOT NULL
);
