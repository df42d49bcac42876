import { PROVED_LIMIT } from '../../store/index.js';
import type { AuditVerificationRun, KeptTotalsProblem } from '../../store/types.js';
import { formatCount, formatDay, formatJakartaTime, formatRupiah } from '../format.js';
import { html } from '../html.js';
import { fill, statusLabel } from '../i18n.js';
import { BASE } from '../console-sessions.js';
import type { OverviewDay } from '../daily-overview.js';
import { PAYMENT_STATES } from '../payment-filters.js';
import { layout, type PageContext } from './layout.js';

export interface OverviewView {
  days: number;
  overview: OverviewDay[];
  /** Whether the daily figures were proved row by row or are as stored (see PaymentTotals.proof). */
  proof: 'proved' | 'stored';
  /** Kept day totals that do not hold, each named (their days counted from the payments instead). */
  integrityProblems: KeptTotalsProblem[];
  chain: AuditVerificationRun | null;
  /** Why the database holds less than the audit checkpoints outside it vouched for (RollbackWatch.held), or null. */
  rolledBack: string | null;
}

const percent = (rate: number | null) => (rate === null ? '—' : `${(rate * 100).toFixed(1).replace('.', ',')} %`);

/**
 * Kept totals of a day that do not hold, in the reader's words (the day as the table shows it);
 * what was found, naming the row as `gerbang audit verify` does, folded beneath for whoever runs it.
 */
function keptProblem(ctx: PageContext, problem: KeptTotalsProblem) {
  const { t } = ctx;
  return html`<li class="integrity-failed" data-day="${problem.day}" data-kind="${problem.kind}">${fill(t(`keptProblem_${problem.kind}`), { day: formatDay(problem.day) })}
<details class="found"><summary>${t('integrityFound')}</summary><code class="integrity-problem">${problem.found}</code></details></li>`;
}

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
  // A database behind the checkpoints outside it (a chain deleted or set back), or a result that cannot be believed (changed in the database): what was found, none of its values (its date, its counts) as a verification's.
  const chainBlock = html`<section class="chain"><h2>${t('chainStatus')}</h2>
${
  view.rolledBack !== null
    ? html`<p id="chain-status" class="error"><strong>${t('chainRolledBack')}</strong> · ${t('chainRolledBackWhy')} ${t('integrityFound')}: <code class="integrity-problem">${view.rolledBack}</code></p>`
    : chain === null
      ? html`<p class="info" id="chain-status">${t('chainNeverRun')}</p>`
      : chain.integrityProblem !== undefined
        ? html`<p id="chain-status" class="error"><strong>${t('chainUnproved')}</strong> · ${t('chainResultUnproved')} ${t('integrityFound')}: <code class="integrity-problem">${chain.integrityProblem}</code></p>`
        : html`<p id="chain-status" class="${chain.ok ? 'ok' : 'error'}"><strong>${chain.ok ? t('chainOk') : t('chainBroken')}</strong> · ${t('lastRun')}: ${formatJakartaTime(chain.checkedAt)} (WIB) · ${chain.links} ${t('linksChecked')}${chain.firstBreak ? html` · ${chain.firstBreak}` : ''}</p>`
}</section>`;
  const range = html`<p class="range">${[7, 14, 30].map((n) => html`<a href="${BASE}/overview?days=${n}"${n === view.days ? html` aria-current="page"` : ''}>${n} ${t('days')}</a> `)}</p>`;
  const charts = html`<div class="charts">
<figure><figcaption>${t('countsByStatus')}</figcaption><canvas id="chart-counts" width="600" height="260"></canvas></figure>
<figure><figcaption>${t('failureRate')}</figcaption><canvas id="chart-failures" width="600" height="260"></canvas></figure>
<figure><figcaption>${t('bankLatency')} (p50 / p95)</figcaption><canvas id="chart-latency" width="600" height="260"></canvas></figure>
</div>
<div id="overview-data" hidden data-json="${JSON.stringify(chartData)}"></div>`;
  // Per day and status: how many payments and their value, every status the list filters by. Wider
  // than a phone: the table scrolls in its own region, which takes the keyboard's focus to scroll.
  const number = (n: number) => formatCount(lang, n);
  const lastCheck = chain === null ? t('notCheckedYet') : `${formatJakartaTime(chain.checkedAt)} (WIB), ${chain.ok ? t('chainOk') : t('chainBroken')}`;
  // Changed payments named above the table too: its last column scrolls out of view on most screens.
  const changed = view.overview.reduce((sum, d) => sum + d.changed, 0);
  const proof =
    view.proof === 'proved'
      ? html`<p class="${changed > 0 ? 'error' : 'info'}" role="status" id="daily-proof" data-proof="proved">${t('dailyProved')}${
          changed > 0 ? html` <strong class="integrity-failed" id="daily-changed" data-changed="${changed}">${t('dailyChangedNote').replace('{n}', number(changed))}</strong>` : ''
        }</p>`
      : html`<p class="warning" role="status" id="daily-proof" data-proof="stored">${t('dailyStored').replace('{n}', number(PROVED_LIMIT)).replace('{when}', lastCheck)}</p>${
          view.integrityProblems.length > 0
            ? html`<div class="error" role="alert" id="daily-kept-problems"><p><strong class="integrity-failed">${t('dailyKeptProblems')}</strong></p><ul>${view.integrityProblems.map((p) => keptProblem(ctx, p))}</ul></div>`
            : ''
        }`;
  const table = html`<h2 id="daily-figures">${t('dailyFigures')}</h2><p class="hint">${t('dailyFiguresHint')}</p>${proof}<div class="table-wrap" tabindex="0" role="region" aria-labelledby="daily-figures"><table class="daily" aria-labelledby="daily-figures">
<thead><tr><th scope="col" rowspan="2">${t('day')}</th><th scope="colgroup" colspan="2">${t('allStates')}</th>${PAYMENT_STATES.map((s) => html`<th scope="colgroup" colspan="2">${statusLabel(lang, s)}</th>`)}<th scope="col" rowspan="2" class="num">${t('failureRate')}</th><th scope="col" rowspan="2" class="num">p50 / p95 (ms)</th><th scope="col" rowspan="2" class="num">${t('dailyChanged')}</th></tr>
<tr>${['all', ...PAYMENT_STATES].map(() => html`<th scope="col" class="num">${t('dailyCount')}</th><th scope="col" class="num">${t('dailySum')}</th>`)}</tr></thead>
<tbody>${view.overview.map(
    (d) => html`<tr data-day="${d.day}"><th scope="row">${formatDay(d.day)}</th><td class="num" data-state="all" data-figure="count">${d.count}</td><td class="num" data-state="all" data-figure="sum">${formatRupiah(d.total)}</td>${PAYMENT_STATES.map(
      (s) => html`<td class="num" data-state="${s}" data-figure="count">${d.counts[s] ?? 0}</td><td class="num" data-state="${s}" data-figure="sum">${formatRupiah(d.totals[s] ?? 0n)}</td>`,
    )}
<td class="num">${percent(d.failureRate)}</td><td class="num">${d.latency ? `${d.latency.p50Ms} / ${d.latency.p95Ms}` : '—'}</td><td class="num${d.changed > 0 ? ' integrity-failed' : ''}" data-figure="changed">${view.proof === 'proved' ? d.changed : '—'}</td></tr>`,
  )}</tbody></table></div>`;
  return layout(ctx, t('overview'), html`${range}${chainBlock}${charts}${table}`, ['chart.umd.min.js', 'overview.js']);
}
