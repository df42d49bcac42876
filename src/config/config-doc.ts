import { SETTINGS, type SettingSpec } from './schema.js';

/** The configuration reference (docs/configuration.md), written from the settings table itself. */
export function configurationMarkdown(): string {
  const rows = (Object.values(SETTINGS) as SettingSpec[]).map((spec) => {
    const description = spec.schema.describe() as { flags?: { default?: unknown } };
    const fallback = description.flags?.default;
    const shown = fallback === undefined ? (spec.secret ? '— (secret)' : '—') : `\`${Array.isArray(fallback) ? fallback.join(',') : String(fallback)}\``;
    return `| \`${spec.env}\` | ${shown === '``' ? '(empty)' : shown} | ${spec.doc.replace(/\|/g, '\\|')}${spec.list ? ' Comma-separated.' : ''} |`;
  });
  return [
    '# Configuration reference',
    '',
    'Generated from `src/config/schema.ts` by `bin/gerbang config doc`; a test keeps it current.',
    '',
    'Every setting comes from the environment, or from the JSON file named by `GERBANG_CONFIG_FILE`',
    '(keyed by the same variable names; the environment wins). All are validated at start-up: a bad',
    'value stops the process with a message that names the variable and what is allowed.',
    'Secrets have no default.',
    '',
    '| Variable | Default | Meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
