/** A strict BCA (legacy API) simulator: the default bank in sandbox mode and the peer of every test. */
export { BankSimulator, createBankSimulator } from './bank-simulator.js';
export type { BankSimulatorOptions, SimulatorCall } from './bank-simulator.js';
export type { FailureScenario } from './failure-scenarios.js';
export { DEFAULT_ACCOUNTS, defaultAccounts, defaultSandboxPartner, SimulatorNetwork } from './simulator-state.js';
export type { SimAccount, SimPartner } from './simulator-state.js';
export { BCA_SNAP_DIALECT, BNI_SNAP_DIALECT, BRI_SNAP_DIALECT, MANDIRI_SNAP_DIALECT } from './snap/index.js';
export type { SnapBankDialect, SnapScenario, SnapSimPartner } from './snap/index.js';
/** The simulator's own reading of BCA's signature document (the conformance tests check it against the published vector). */
export { expectedLegacySignature, legacyStringToSign } from './legacy-signature.js';
