import type { ConsoleAuditEntry } from '../../store/types.js';
import { formatWhen } from '../format.js';
import { html } from '../html.js';
import { BASE } from '../console-sessions.js';
import { layout, type PageContext } from './layout.js';

export function accessLogPage(ctx: PageContext, entries: (ConsoleAuditEntry & { id: number })[], filter: { username: string; action: string }): string {
  const { t, lang } = ctx;
  return layout(
    ctx,
    t('accessLog'),
    html`<form method="get" action="${BASE}/access-log" class="filters no-print" aria-label="${t('filters')}">
<label>${t('username')} <input name="user" value="${filter.username}"></label>
<label>${t('action')} <input name="action" value="${filter.action}" placeholder="export_csv"></label>
<div class="actions"><button type="submit">${t('apply')}</button></div></form>
<div class="table-wrap" tabindex="0" role="region" aria-label="${t('accessLog')}"><table class="access-log"><thead><tr><th scope="col">${t('created')}</th><th scope="col">${t('username')}</th><th scope="col">${t('action')}</th><th scope="col">${t('target')}</th><th scope="col">${t('detail')}</th><th scope="col">${t('remoteIp')}</th></tr></thead>
<tbody>${entries.map((e) => html`<tr data-action="${e.action}" id="entry-${e.id}"><td class="when">${formatWhen(lang, e.at, true)}</td><td>${e.username}</td><td><code>${e.action}</code></td><td>${e.target}</td><td>${e.detail ?? ''}</td><td>${e.remoteIp}</td></tr>`)}</tbody></table></div>`,
  );
}
