import { html } from '../html.js';
import { BASE } from '../console-sessions.js';
import { layout, type PageContext } from './layout.js';

/** A styled error page (403, 404) in the clerk's language, with a way back to the list. */
export function messagePage(ctx: PageContext, title: string, message: string): string {
  return layout(ctx, title, html`<p class="error" role="alert">${message}</p><p><a class="button" href="${BASE}/payments">${ctx.t('backToList')}</a></p>`);
}
