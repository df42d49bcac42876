-- 021_console_flash (embedded SQLite): the same column as sql/mysql/021_console_flash.sql, whose
-- comments explain it.
ALTER TABLE console_sessions ADD COLUMN flash TEXT NULL;
