export { startGateway } from './gateway.js';
export type { Gateway, StartOptions } from './gateway.js';
export { startBankPartners, storeTokenCache } from './bank-partners.js';
export type { BankPartners } from './bank-partners.js';
