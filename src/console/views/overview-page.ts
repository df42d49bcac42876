import type { AuditVerificationRun } from '../../store/types.js';
import { formatJakartaTime, formatRupiah } from '../format.js';
import { html } from '../html.js';
import { statusLabel } from '../i18n.js';
import { BASE } from '../console-sessions.js';
import type { OverviewDay } from '../daily-overview.js';
import { PAYMENT_STATES } from '../payment-filters.js';
import { layout, type PageContext } from './layout.js';

export interface OverviewView {
  days: number;
  overview: OverviewDay[];
  chain: AuditVerificationRun | null;
}

const percent = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1).replace('.', ',')} %`);

/**
 * The overview: charts drawn by Chart.js (served by the console) from the JSON in the
 * data-json attribute of #overview-data (escaped like any value; the CSP allows no inline script), and the same figures as a table for reading, printing and screen readers.
 */
export function overviewPage(ctx: PageContext, view: OverviewView): string {
  const { t, lang } = ctx;
  const chartData = {
    labels: view.overview.map((d) => d.day),
    states: PAYMENT_STATES.map((s) => ({ state: s, label: statusLabel(lang, s), counts: view.overview.map((d) => d.counts[s] ?? 0) })),
    failureRate: view.overview.map((d) => (d.failureRate === null ? null : Math.round(d.failureRate * 1000) / 10)),
    p50: view.overview.map((d) => d.latency?.p50Ms ?? null),
    p95: view.overview.map((d) => d.latency?.p95Ms ?? null),
    text: { countsByStatus: t('countsByStatus'), failureRate: `${t('failureRate')} (%)`, bankLatency: `${t('bankLatency')} (ms)` },
  };
  const chain = view.chain;
  const chainBlock = html`<section class="chain"><h2>${t('chainStatus')}</h2>
${
  chain === null
    ? html`<p class="info" id="chain-status">${t('chainNeverRun')}</p>`
    : html`<p id="chain-status" class="${chain.ok ? 'ok' : 'error'}"><strong>${chain.ok ? t('chainOk') : t('chainBroken')}</strong> · ${t('lastRun')}: ${formatJakartaTime(chain.checkedAt)} (WIB) · ${chain.links} ${t('linksChecked')}${chain.firstBreak ? html` · ${chain.firstBreak}` : ''}</p>`
}</section>`;
  const range = html`<p class="range">${[7, 14, 30].map((n) => html`<a href="${BASE}/overview?days=${n}"${n === view.days ? html` aria-current="page"` : ''}>${n} ${t('days')}</a> `)}</p>`;
  const charts = html`<div class="charts">
<figure><figcaption>${t('countsByStatus')}</figcaption><canvas id="chart-counts" width="600" height="260"></canvas></figure>
<figure><figcaption>${t('failureRate')}</figcaption><canvas id="chart-failures" width="600" height="260"></canvas></figure>
<figure><figcaption>${t('bankLatency')} (p50 / p95)</figcaption><canvas id="chart-latency" width="600" height="260"></canvas></figure>
</div>
<div id="overview-data" hidden data-json="${JSON.stringify(chartData)}"></div>`;
  const table = html`<h2>${t('dailyFigures')}</h2><table class="daily">
<thead><tr><th>${t('day')}</th><th class="num">${t('count')}</th>${['SUCCESS', 'FAILED', 'PENDING', 'UNKNOWN'].map((s) => html`<th class="num">${statusLabel(lang, s)}</th>`)}<th class="num">${t('total')} (${statusLabel(lang, 'SUCCESS')})</th><th class="num">${t('failureRate')}</th><th class="num">p50 / p95 (ms)</th></tr></thead>
<tbody>${view.overview.map(
    (d) => html`<tr data-day="${d.day}"><td>${d.day}</td><td class="num">${d.count}</td>${(['SUCCESS', 'FAILED', 'PENDING', 'UNKNOWN'] as const).map((s) => html`<td class="num">${d.counts[s] ?? 0}</td>`)}
<td class="num">${formatRupiah(d.totals.SUCCESS ?? 0n)}</td><td class="num">${percent(d.failureRate)}</td><td class="num">${d.latency ? `${d.latency.p50Ms} / ${d.latency.p95Ms}` : '—'}</td></tr>`,
  )}</tbody></table>`;
  return layout(ctx, t('overview'), html`${range}${chainBlock}${charts}${table}`, ['chart.umd.min.js', 'overview.js']);
}
