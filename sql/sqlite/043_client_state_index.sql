-- 043 (embedded SQLite): the payment list filtered by client and status read from one index; see
-- sql/mysql/043_client_state_index.sql.
CREATE INDEX IF NOT EXISTS ix_payments_client_state_created ON payments (client_id, state, created_at);
