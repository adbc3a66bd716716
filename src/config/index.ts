export { PretrainConfig } from './schema.js';
export { loadConfig, parseConfig, applyOverride, ConfigError } from './load.js';
