import type { AdminEvidenceKind } from '../domain/transfers/index.js';

/**
 * What each command's usage says: kept apart from the commands so that `gerbang --help`, and a
 * command's usage, load none of them (each command's modules are loaded only when it runs; see
 * main.ts).
 */

/** Checked by the compiler against the review use case's own list (a type import: nothing loads). */
const ADMIN_EVIDENCE_KINDS: Record<AdminEvidenceKind, true> = { STATEMENT_LINE: true, BANK_REFERENCE: true, CALL_REFERENCE: true };

export const SERVE_USAGE = 'gerbang serve\n  Runs the API (configuration from the environment; see docs/configuration.md).';
export const SANDBOX_USAGE = 'gerbang sandbox\n  Runs the API against the built-in bank simulator with a demo client.';
export const CONSOLE_USAGE = 'gerbang console\n  Runs the finance console on CONSOLE_PORT (its own process; the API port never serves it).';
export const MIGRATE_USAGE = 'gerbang migrate\n  Applies pending migrations to GERBANG_DATABASE_URL.';
export const CONFIG_USAGE = 'gerbang config doc\n  Prints the configuration reference (docs/configuration.md).';
/** `gerbang audit accept-day`: printed alone when it is called wrong, and in AUDIT_USAGE. */
export const ACCEPT_DAY_USAGE = `gerbang audit accept-day --account ACCOUNT --day YYYY-MM-DD --expect DIGEST --reason TEXT
  A day the console's reconciliation names in red (DELETED OUTSIDE GERBANG: sealed payments
  deleted in the database; SEAL CHANGED OUTSIDE GERBANG: the day's seal deleted or changed there)
  is named at every reading. After investigating (the bank statement, what could be restored),
  accept the day as it is: it is sealed anew with the payments it holds now, so the alert is no
  longer shown and a payment of it deleted later is named again. The acceptance is a console audit
  entry (access log, action reconciliation_day_accept): its digest, the account's tag, what was
  accepted and the reason (plain text, at most 300 characters). Without --expect nothing is
  written: it names what the day's alerts are (the account masked, each deleted id), the ids of
  the payments it would seal, and their digest (16 hex digits), exit 1; re-run with that digest.
  Exit 0 when accepted or when the day names nothing (nothing written); 1 without --expect, when
  DIGEST is not the digest printed for what the day names and would seal now (another payment
  deleted or changed since, or mistyped: nothing written), when the day cannot be sealed (a
  payment of it changed in the database, a sealed payment still there under another account or
  time: nothing written), or when the day is not closed yet (01:00 WIB the next day).`;
export const AUDIT_USAGE = `gerbang audit export --format jsonl|csv [--from ISO] [--to ISO]
  One record per inbound exchange with its bank calls, oldest first, to stdout (decrypted). A record
  that does not hold to its chain links or its place in its chains is exported marked
  CHANGED_OUTSIDE_GERBANG; chains the database lacks against the checkpoints in
  GERBANG_AUDIT_CHECKPOINT_FILE are named on stderr. Exit status 0 when all holds, 1 otherwise.
gerbang audit verify [--format text|json]
  Checks every writer's keyed chain and every stored record; names every altered, deleted or
  reordered record of every chain, then compares the chain heads with the signed checkpoints in
  GERBANG_AUDIT_CHECKPOINT_FILE (a deleted tail, a vanished chain, a rollback to an older copy)
  and, when all is intact, appends a new checkpoint. Breaks an operator accepted (accept-rollback)
  exactly (as the acceptance saw them) are listed as accepted (JSON: "accepted") and do not count;
  those accepted by an older line that does not say what it saw are named not provably the same
  break. When something is not accepted, prints the digest of what accept-rollback would accept
  (JSON: "acceptDigest") and names every lost payment in it (a payments row deleted without its
  release, or altered; JSON: "lostPayments"): its client, transactionId, amount and currency and
  the last outcome Gerbang knew, from what still holds, or that they cannot be read back. Then
  lists the reconciliation days operators accepted (accept-day) whose entries hold under their
  chain links (JSON: "acceptedDays"); they are not breaks. Exit status 0 intact but for breaks
  accepted exactly, 1 otherwise.
gerbang audit purge-anonymous [--before ISO] [--dry-run] [--json]
  Deletes rejected requests of anonymous callers (no client identified, no payment, no bank call),
  and their CORS preflights and GETs of the API documents, received more than GERBANG_AUDIT_ANONYMOUS_RETENTION_DAYS days ago, or before --before when that
  is earlier. Each purge is recorded in a keyed audit chain, so audit verify reports it (and still
  reports any other deletion). --dry-run counts and deletes nothing. Run it daily from cron.
gerbang audit accept-rollback --expect DIGEST --reason TEXT
  While the database lacks what the checkpoints vouched for (restored from an older copy, a chain
  cut or deleted), every gateway answers 503 and pays no payment run. After checking what is
  missing (audit verify; the bank's statement for payments made since the copy), accept the
  database as it is, exactly what audit verify named by DIGEST: a signed line of the checkpoint
  file, with the reason. Chains with records deleted or altered inside them (found by the
  gateways' audit scrub) are walked and each break accepted exactly in the same line, with every
  payment row deleted or altered. Everything is walked twice, 2 s apart. Without --expect nothing
  is accepted, whatever there is: it names what it would accept (lost payments too) and its
  digest, exit 1; read audit verify first (a gap in a chain can hide a payment deleted whole; once
  accepted, the ERP's resend of a lost payment's transactionId is sent to the bank as a new
  payment: check the bank statement), then re-run with its digest. Exit 0 when accepted or when
  there is nothing to accept; 1 without --expect, when what it would accept is not what DIGEST
  named (a break made since), or when one walk found something the other did not (named, nothing
  accepted: run audit verify and it again).
${ACCEPT_DAY_USAGE}`;
export const BANK_USAGE = `gerbang bank ping [--json]
  Fetches a token from each configured bank partner and reports; exit 1 when one fails.`;
export const CLIENT_USAGE = `gerbang client create --name N [--origin O]... [--cidr C]... [--json]
gerbang client list [--json]
gerbang client disable --id ID
gerbang client enable --id ID
gerbang client rotate-secret --id ID [--json]
gerbang client set-callback --id ID (--url https://… | --remove)
gerbang client enable-signing --id ID [--json]
gerbang client rotate-signing-key --id ID [--json]
gerbang client disable-signing --id ID
gerbang client grant-account --id ID --account NUMBER
gerbang client revoke-account --id ID --account NUMBER
gerbang client accounts --id ID [--json]
gerbang client link-entra-app --id ID --app-id GUID
gerbang client unlink-entra-app --id ID --app-id GUID
gerbang client rotate-api-key --id ID [--json]
gerbang client revoke-api-key --id ID
  A client with no --cidr is refused from everywhere (fail closed): give the ERP's egress ranges.
  enable lets a disabled client request tokens again (with its existing secret).
  rotate-secret prints a new secret once; tokens issued before it stop working at once.
  set-callback: where Gerbang POSTs a signed notice when one of the client's transfers becomes final.
  enable-signing: every API call of the client but the token request must then carry
  X-Gerbang-Timestamp and X-Gerbang-Signature (HMAC-SHA256); prints the signing key once. It is
  stored sealed with the audit keys.
  Every action needs GERBANG_AUDIT_KEYS / GERBANG_AUDIT_KEY_FILES: each client, credential, grant
  and callback endpoint is stored under a MAC of those keys, and one that does not hold it (changed
  in SQL) is refused and marked INTEGRITY FAILED in the list.
  rotate-signing-key prints a new key once; requests signed with the old one are refused at once.
  grant-account: the client may read the balance and statement of, and pay from, that company
  account (one configured at a bank partner). A client uses only the accounts granted to it; any
  other answers 404. A new client, and one from before grants existed, has none.
  link-entra-app: Microsoft Entra ID access tokens of that application (app registration or
  managed identity; the token's azp/appid) act as this client (needs GERBANG_ENTRA_METADATA_URL).
  rotate-api-key prints a new API key once (sent as X-API-Key, for connectors that cannot do
  OAuth); the client's earlier key stops working at once. revoke-api-key deletes it.`;
export const DOCTOR_USAGE = 'gerbang doctor\n  Checks this installation: configuration, store and migrations, keys, a token from each bank partner,\n  and the source address bank calls leave from. Exit 0 when every check passes, 1 naming the failures.';
export const KEYS_USAGE = `gerbang keys generate [--id ID]
  Prints a new audit key line \`ID:base64key\` for GERBANG_AUDIT_KEYS or a key file.
gerbang keys rotate [--batch-size N]
  Re-encrypts every sealed value (audit records, payment answers, payment-run lines, callbacks,
  clients' request-signing keys) to the newest key (the last in GERBANG_AUDIT_KEYS /
  GERBANG_AUDIT_KEY_FILES), N rows per transaction (default 200), while gateways keep serving;
  re-links the audit chains N links per transaction, going on from where a run stopped half-way.
  Exit status 0 when no row is left under an older key. Also makes the console search's trigram
  index (migration 026) again under the newest key.
gerbang keys reindex-search
  Indexes for the console's text search every payment not yet indexed under the newest key
  (migration 026 does it for the payments stored before it; run this after restoring payments
  written by an older version, or when the console says payments are not in the search index).
  500 payments per transaction while gateways keep serving; run again if cut short.
gerbang keys seal-payments-by-id [--batch-size N]
  Seals again for its id every payment whose account and details were sealed in its INSERT
  (GERBANG_SEAL_PAYMENTS_AT_INSERT), so a release before that setting can read it: run it, with
  the setting off on every node, before rolling back to such a release. N payments per
  transaction (default 200). Exit status 0 when no payment is left sealed in its INSERT.`;
export const OPENAPI_USAGE = `gerbang openapi write [dir]
  Writes openapi.json (OpenAPI 3) and swagger.json (Swagger 2.0), as a server without
  GERBANG_PUBLIC_URL serves them, and apiProperties.json (the Power Platform connector's
  properties), to dir (default docs/api).`;
export const SIGN_USAGE = `gerbang sign bca-legacy --method M --path P --token T --secret S --timestamp TS [--body-file F]
gerbang sign snap --method M --path P --token T --secret S --timestamp TS [--body-file F]
gerbang sign snap-token --client-id C --timestamp TS --private-key-file F
  Prints {"stringToSign","signature"} computed by the very signer the bank's adapter uses.
gerbang sign request --method M --path P --key K --timestamp TS [--body-file F]
  Prints {"stringToSign","signature"} of a request to Gerbang by a client that must sign
  (X-Gerbang-Signature; P with its query, TS as in X-Gerbang-Timestamp, the body file's exact bytes),
  computed by the very code that verifies it: ERP integrators compare it with theirs.`;
export const SIMULATOR_USAGE = `gerbang simulator [--port N] [--host H] [--allow IP]...
  Runs the BCA simulator alone and prints the credentials it generated.`;
export const TRANSFER_USAGE = `gerbang transfer review list [--json]
gerbang transfer review show ID [--json]
gerbang transfer review resolve ID --admin USERNAME --outcome SUCCESS|FAILED --evidence-kind ${Object.keys(ADMIN_EVIDENCE_KINDS).join('|')} --evidence TEXT
  The review queue: transfers still in doubt past GERBANG_REVIEW_AFTER_MS. Nothing here sends
  anything to a bank. Resolving records the evidence (the statement line, the bank's reference, or
  the reference of a call with the bank) and the outcome it proves; USERNAME must be an active
  console admin. Audited, and told to the ERP (its callback, GET /v1/transfers/{id}).
  Before it takes effect the paying account's statement is read through Gerbang's API as the
  client of GERBANG_CONSOLE_API_* and a resolution it contradicts is refused (REVIEW_CONTRADICTED:
  FAILED with a debit carrying the reference, SUCCESS with no debit after the bank's day close);
  unreadable or inconclusive, it goes ahead and says NOT CROSS-CHECKED and why.
  A payment changed in the database outside Gerbang is listed marked, with what was found and none
  of its values; list and show then exit 1, naming it on stderr, and resolve refuses it.`;
export const CALLBACK_USAGE = `gerbang callback requeue --client ID --transaction-id TX --admin USERNAME --reason TEXT [--send-again] [--json]
  Queues again the notification to the ERP of a final transfer whose delivery audit verify names
  (deleted, set DELIVERED or FAILED, or otherwise changed in SQL: the dispatcher refuses such a row
  and never sends it), as Gerbang queues it: the transfer's answer read from the payment's own
  state (never from the row found), for the client's registered endpoint, no attempts yet. It is
  sent at the dispatcher's next run, and audit verify no longer names it. Refused, nothing queued,
  when USERNAME is not an active console admin, the payment is missing, not final or itself
  changed outside Gerbang, the client has no callback endpoint (or one that does not hold), or the
  delivery holds (as Gerbang left it) or was never queued. Refused too when the audit says the
  ERP's endpoint took it already (a CALLBACK record, holding under the audit chain's key, of an
  attempt answered 2xx: when and to which URL are said), since queued again it would be sent a
  second time, or when that cannot be told (a record of the transfer that does not hold, or the
  audit unreadable); --send-again sends it anyway, recorded as a deliberate second send.
  Audited (method CALLBACK-REQUEUE) with USERNAME, the reason, --send-again and what was found.
  Exit 0 queued, 1 refused (why on stderr).`;
export const USER_USAGE = `gerbang user create --username U --role viewer|auditor|admin [--password-stdin]
gerbang user list
gerbang user unlock --username U
gerbang user reset-password --username U [--password-stdin]
  Finance console users. The password is asked for (not echoed), or read from stdin with
  --password-stdin (for scripts: printf '%s' "$PW" | gerbang user create … --password-stdin).
  unlock lifts every sign-in lockout of the user (from each address and overall);
  reset-password sets a new password, ends the user's sessions and unlocks the user.`;
