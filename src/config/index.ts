export { loadConfig, loadStoreConfig, ConfigError } from './load-config.js';
export type { Config, BcaLegacyPartnerConfig } from './load-config.js';
export { SETTINGS, BCA_SETTINGS } from './schema.js';
export { configurationMarkdown } from './config-doc.js';
export type { SettingSpec, SettingName } from './schema.js';
