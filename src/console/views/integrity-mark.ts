import { html, type Html } from '../html.js';
import type { LabelKey, Translate } from '../i18n.js';

/**
 * The mark of a record that failed its integrity check (changed in the database, outside
 * Gerbang): the warning in the reader's language, then what was found, naming the record as
 * `audit verify` does. Pages show it in place of the record's status and offer no action on it.
 */
export function integrityMark(t: Translate, problem: string, warning: LabelKey = 'paymentChangedOutside'): Html {
  return html`<div class="integrity-failed" role="alert"><strong class="integrity-failed">${t(warning)}</strong><br>${t('integrityFound')}: <code class="integrity-problem">${problem}</code></div>`;
}
