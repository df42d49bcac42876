export { formulaSafe, formulaSafeCsv } from './formula-safe-csv.js';

/** The status (or outcome) of a record changed outside Gerbang in an export: no state of it can be trusted. */
export const FORGED_STATUS = 'CHANGED_OUTSIDE_GERBANG';
