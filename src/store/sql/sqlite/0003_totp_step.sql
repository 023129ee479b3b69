-- 0003: one-time codes are used once (RFC 6238 5.2): the last TOTP step a resident logged in with.
ALTER TABLE citizens ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT -1;
