import { SETTINGS } from './schema.js';

/** Variables Gerbang reads besides the settings table (the table itself names the rest). */
const OTHER_VARIABLES = ['GERBANG_CONFIG_FILE'];

export interface UnknownSetting {
  name: string;
  /** The known variable nearest in spelling, when one is close enough to be the likely intent. */
  closest?: string;
}

/**
 * The `GERBANG_*` variables of `env` that Gerbang does not read: most likely a typo
 * (`GERBANG_BCA_CLIENTID`), whose setting then silently keeps its default. Reported at start.
 */
export function unknownSettings(env: Record<string, string | undefined>): UnknownSetting[] {
  const known = [...Object.values(SETTINGS).map((spec) => spec.env), ...OTHER_VARIABLES];
  return Object.keys(env)
    .filter((name) => name.startsWith('GERBANG_') && env[name] !== undefined && !known.includes(name))
    .sort()
    .map((name) => {
      const [best] = known.map((candidate) => ({ candidate, distance: editDistance(name, candidate) })).sort((a, b) => a.distance - b.distance);
      // Within a third of the name's length: a slip of the keyboard, not another word.
      return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? { name, closest: best.candidate } : { name };
    });
}

/** One line per unknown variable, e.g. `GERBANG_BCA_CLIENTID is not a Gerbang setting; did you mean GERBANG_BCA_CLIENT_ID?`. */
export function describeUnknownSettings(unknown: UnknownSetting[]): string[] {
  return unknown.map(({ name, closest }) => `${name} is not a Gerbang setting (ignored)${closest ? `; did you mean ${closest}?` : ''}`);
}

/** Levenshtein distance (insertions, deletions and substitutions cost 1). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_v, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
