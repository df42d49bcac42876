export { BankSimulator, createBankSimulator } from './bank-simulator.js';
export type { BankSimulatorOptions, SimulatorCall, FailureScenario } from './bank-simulator.js';
export { defaultSandboxPartner, DEFAULT_ACCOUNTS } from './simulator-state.js';
export type { SimPartner, SimAccount } from './simulator-state.js';
