-- 035 (embedded SQLite): the payment ids of a day's reserve events read from one index; see
-- sql/mysql/035_reserve_events_index.sql.
CREATE INDEX IF NOT EXISTS ix_payment_events_reserved ON payment_events (cause, recorded_at, payment_id);
