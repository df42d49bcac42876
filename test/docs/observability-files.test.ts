import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, sampleTransfer, TestGateway } from '../support/gateway-harness.js';

const ROOT = join(__dirname, '..', '..', '..');
const FOLDER = join(ROOT, 'docs', 'observability');

function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout ?? ''}${run.stderr ?? ''}` };
}

/** Metric names a PromQL expression reads (gerbang_*, process_*, nodejs_*), without histogram suffixes. */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:gerbang|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1].replace(/_(bucket|sum|count)$/, ''));
}

/**
 * The metrics, alert rules and dashboard against Prometheus's own checker, and against each other:
 * a rule or panel reading a metric the gateway does not export would stay silent forever.
 */
describe('Observability files and /metrics, checked by promtool', function () {
  this.timeout(60_000);
  let gateway: TestGateway;
  let text: string;

  before(async function () {
    if (spawnSync('promtool', ['--version']).status !== 0) {
      if (process.env.CI === 'true') throw new Error('promtool is required under CI=true (apt-get install prometheus; .ci/run installs it)');
      console.warn('\n*** SKIPPED: promtool checks (promtool is not installed: apt-get install prometheus). CI=true makes this a failure. ***\n');
      this.skip();
    }
    gateway = await TestGateway.start('sqlite::memory:');
    const client = await gateway.createClient();
    const token = await gateway.token(client);
    const paid = await gateway.request('/v1/transfers', { json: sampleTransfer(), headers: { authorization: `Bearer ${token}` } });
    expect(paid.status).to.equal(201);
    text = await eventually(async () => {
      const scraped = await (await fetch(gateway.gateway.metricsUrl!)).text();
      return scraped.includes('gerbang_transfers_total{') ? scraped : null;
    });
  });
  after(() => gateway?.close());

  it('/metrics passes `promtool check metrics`', () => {
    const { status, output } = promtool(['check', 'metrics'], text);
    expect(output).to.equal('');
    expect(status).to.equal(0);
  });

  it('has no gauge named _total, and Node metrics under their standard names', () => {
    const gauges = [...text.matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]);
    expect(gauges.filter((name) => name.endsWith('_total'))).to.deep.equal([]);
    expect(text).to.match(/^process_resident_memory_bytes \d+/m);
    expect(text).to.match(/^nodejs_heap_size_used_bytes \d+/m);
    expect(text).to.not.contain('gerbang_process_');
  });

  it('has business metrics: transfers by bank and status, in doubt and its oldest age, review queue, circuit state, spool backlog, audit scrub, build info', () => {
    expect(text).to.match(/^gerbang_transfers_total\{bank="bca",status="SUCCESS"\} 1$/m);
    expect(text).to.match(/^gerbang_transfers_in_doubt\{state="UNKNOWN"\} 0$/m);
    expect(text).to.match(/^gerbang_transfers_in_doubt_oldest_age_seconds\{state="UNKNOWN"\} 0$/m);
    expect(text).to.match(/^gerbang_review_queue_transfers 0$/m);
    expect(text).to.match(/^gerbang_review_queue_oldest_age_seconds 0$/m);
    expect(text).to.match(/^gerbang_bank_circuit_state\{partner="bca"\} 0$/m);
    expect(text).to.match(/^gerbang_audit_spool_backlog 0$/m);
    expect(text).to.match(/^gerbang_audit_scrub_broken_chains 0$/m);
    expect(text).to.contain('# TYPE gerbang_audit_scrub_last_cycle_timestamp_seconds gauge');
    expect(text).to.contain('# TYPE gerbang_audit_scrub_last_pass_timestamp_seconds gauge');
    expect(text).to.match(/^gerbang_build_info\{version="[^"]+",nodejs="v\d+[^"]*"\} 1$/m);
  });

  it("has histogram buckets up to the bank's longest exchange (connect + headers + body timeouts, 65 s by default)", () => {
    const buckets = [...text.matchAll(/^gerbang_bank_call_duration_seconds_bucket\{le="([^"+]+)"/gm)].map((m) => Number(m[1]));
    expect(Math.max(...buckets)).to.be.at.least(65);
    const httpBuckets = [...text.matchAll(/^gerbang_http_request_duration_seconds_bucket\{le="([^"+]+)"/gm)].map((m) => Number(m[1]));
    expect(Math.max(...httpBuckets)).to.be.at.least(65);
  });

  it('docs/observability/alerts.yml passes `promtool check rules` and reads only exported metrics', () => {
    const { status, output } = promtool(['check', 'rules', join(FOLDER, 'alerts.yml')]);
    expect(status, output).to.equal(0);
    const rules = readFileSync(join(FOLDER, 'alerts.yml'), 'utf8');
    const missing = metricsIn(rules).filter((name) => !text.includes(`# TYPE ${name} `));
    expect(missing).to.deep.equal([]);
  });

  /** GerbangCallbackOverdueUnread's annotation `name` as alerts.yml has it, rendered for instance unread:9464. */
  const annotation = (name: string): string => {
    const rule = readFileSync(join(FOLDER, 'alerts.yml'), 'utf8').split('- alert: GerbangCallbackOverdueUnread')[1];
    const text = JSON.parse(new RegExp(`${name}: (".*")`).exec(rule)![1]) as string;
    return text.replace('{{ $labels.instance }}', 'unread:9464');
  };

  it('alerts.yml: a target that answers scrapes without the overdue-notification gauges (their store read failing) for 10 minutes is alerted on (promtool test rules)', () => {
    const tests = join(mkdtempSync(join(tmpdir(), 'gerbang-alerts-')), 'tests.yml');
    writeFileSync(tests, [
      `rule_files: [${JSON.stringify(join(FOLDER, 'alerts.yml'))}]`,
      'evaluation_interval: 1m',
      'tests:',
      '  - interval: 1m',
      '    input_series:',
      '      - series: \'up{job="gerbang", instance="unread:9464"}\'',
      '        values: "1x20"',
      '      - series: \'up{job="gerbang", instance="read:9464"}\'',
      '        values: "1x20"',
      '      - series: \'gerbang_callbacks_overdue_oldest_age_seconds{job="gerbang", instance="read:9464"}\'',
      '        values: "0x20"',
      '    alert_rule_test:',
      '      - eval_time: 5m',
      `        alertname: GerbangCallbackOverdueUnread`,
      '        exp_alerts: []',
      '      - eval_time: 15m',
      `        alertname: GerbangCallbackOverdueUnread`,
      '        exp_alerts:',
      '          - exp_labels: { job: gerbang, instance: "unread:9464", severity: ticket }',
      `            exp_annotations: ${JSON.stringify({ summary: annotation('summary'), description: annotation('description') })}`,
      '',
    ].join('\n'));
    const { status, output } = promtool(['test', 'rules', tests]);
    expect(status, output).to.equal(0);
  });

  it('docs/observability/grafana-dashboard.json is a dashboard whose every query reads exported metrics', () => {
    const dashboard = JSON.parse(readFileSync(join(FOLDER, 'grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.panels.length).to.be.greaterThan(5);
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        const missing = metricsIn(expr).filter((name) => !text.includes(`# TYPE ${name} `));
        expect(missing, panel.title).to.deep.equal([]);
      }
    }
  });
});
