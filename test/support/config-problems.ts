import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/index.js';

/** The problems loadConfig reports for `env` (it must refuse it). */
export function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
