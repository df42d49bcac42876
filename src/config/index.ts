export { loadConfig, loadConsoleConfig, loadStoreConfig, loadAuditKeys, ConfigError } from './load-config.js';
export type { Config, ConsoleConfig, TransferLimits } from './load-config.js';
export { cents } from './load-config.js';
export type { BcaLegacyPartnerConfig, PartnerConfig, SnapPartnerBlock } from './partners.js';
export { byPriority, partnersFileSchema } from './partners.js';
export { SETTINGS, BCA_SETTINGS, SECRET_ENV_NAMES } from './schema.js';
export { configurationMarkdown } from './config-doc.js';
export type { SettingSpec, SettingName } from './schema.js';
