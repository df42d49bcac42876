import { ACCOUNT_GRANTS } from './account-grant-repository.js';
import { CALLBACK_DELIVERIES, CALLBACK_ENDPOINTS } from './callback-repository.js';
import { CLIENT_CREDENTIALS } from './client-credential-repository.js';
import { CLIENTS } from './client-repository.js';
import { CONSOLE_USERS } from './console-user-repository.js';
import type { MacedTable } from './record-macs.js';

/**
 * Every table whose rows carry a MAC and a change record for each change (record-macs.ts,
 * record-changes.ts), in the order `audit verify` names them and `keys rotate` re-MACs them: who
 * signs in to the console, which API clients exist and how they prove it, which accounts they may
 * use, where their callbacks go, and which notifications are still to be sent (migration 038).
 */
export const MACED_TABLES: readonly MacedTable[] = [CONSOLE_USERS, CLIENTS, CLIENT_CREDENTIALS, ACCOUNT_GRANTS, CALLBACK_ENDPOINTS, CALLBACK_DELIVERIES];

/** The tables migration 027 recorded as they stood (queued callbacks got their MAC and records in 038). */
export const RECORDED_AT_027: readonly MacedTable[] = [CONSOLE_USERS, CLIENTS, CLIENT_CREDENTIALS, ACCOUNT_GRANTS, CALLBACK_ENDPOINTS];

/** The tables migration 025 gives a MAC (console users got theirs in 024). */
export const MACED_AT_025: readonly MacedTable[] = [CLIENTS, CLIENT_CREDENTIALS, ACCOUNT_GRANTS, CALLBACK_ENDPOINTS];
