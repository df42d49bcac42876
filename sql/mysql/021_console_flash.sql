-- 021: a one-time message for a console session's next page (Post/Redirect/Get). An admin
-- page's POST keeps what it has to show there (a new client secret, "saved") sealed with the key
-- ring, then redirects; the GET that follows takes it, read and cleared in one step, so a reload
-- shows nothing again and repeats nothing, and the secret never travels in a URL. It goes with
-- the session (sign-out, idle purge).
ALTER TABLE console_sessions ADD COLUMN flash TEXT NULL COMMENT 'sealed; cleared when shown';
