/** SNAP BI in the bank simulator, beside the legacy API on the same server and books. */
export { SnapBank } from './snap-bank.js';
export type { SnapBankOptions } from './snap-bank.js';
export type { SnapSimPartner } from './snap-auth.js';
export type { SnapScenario } from './snap-scenarios.js';
export { BCA_SNAP_DIALECT, BNI_SNAP_DIALECT, BRI_SNAP_DIALECT, MANDIRI_SNAP_DIALECT } from './snap-dialect.js';
export type { SnapBankDialect, SnapServiceName } from './snap-dialect.js';
