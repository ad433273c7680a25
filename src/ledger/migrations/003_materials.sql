-- Materials (材料零提交): how each delivery handed the case's materials over (mode, and each
-- material's kind, size and digest; never a URI, never the bytes), kept so that an archived case
-- reads as it did in Redis. What the materials turned out to be travels in the case's record.
ALTER TABLE ledger_deliveries ADD COLUMN handover jsonb;
