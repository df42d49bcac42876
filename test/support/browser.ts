import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';
import { missingTool } from './missing-tool.js';

/** Debian's chromium (`apt-get install chromium`, see .ci/run); playwright-core downloads no browser. */
export const CHROMIUM = process.env.GERBANG_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Outside CI a missing chromium skips the calling suite with a loud line; under CI=true it
 * fails it, so the browser tests can never silently stop running.
 */
export function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  missingTool(ctx, `browser suites (no chromium at ${CHROMIUM}; apt-get install chromium, or set GERBANG_TEST_CHROMIUM)`);
}

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * A headless chromium with a fresh profile in a temp folder (no state from another run), no
 * background traffic to Google, downloads accepted.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'gerbang-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    locale: 'id-ID',
    timezoneId: 'Asia/Jakarta',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's violations on the page as it stands, one line each (rule: the elements), then, when
 * it has folded parts (<details>: technical details, bodies, grouped checks), with every one of
 * them opened, since axe skips what is hidden; the folds are closed again after. Run through the
 * DevTools protocol, so the console's CSP (no inline script) does not stop it.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const run = () =>
    page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
      return (await axe.run()).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
  const asOpened = await run();
  const folded = page.locator('details:not([open])');
  if ((await folded.count()) === 0) return asOpened;
  await folded.evaluateAll((all) => all.forEach((el) => (el.setAttribute('open', ''), el.setAttribute('data-axe-opened', ''))));
  const unfolded = await run();
  await page.locator('details[data-axe-opened]').evaluateAll((all) => all.forEach((el) => (el.removeAttribute('open'), el.removeAttribute('data-axe-opened'))));
  return [...new Set([...asOpened, ...unfolded])];
}

/**
 * How many pixels the page as a whole is wider than the window (0 or less: nothing but a wide
 * table, inside its own box, scrolls sideways): what the console's "usable at 1024 px and on a
 * phone" tests measure.
 */
export function sidewaysOverflow(page: Page): Promise<number> {
  return page.evaluate(() => {
    const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return root.scrollWidth - root.clientWidth;
  });
}

/** The background colour the browser computes for the first element `selector` matches (`rgb(…)`): which of the stylesheet's boxes it is drawn as. */
export function computedBackground(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor);
}

/**
 * Submits the console's sign-in form as `who`, with no cookie of an earlier user (the form in
 * `lang` when given), and waits for the answer's page: the payment list when the console let
 * them in, the sign-in page again with its alert when it did not. Returns the HTTP status of the
 * form's answer (303 when let in, 401 for a wrong password, 429 when told to wait).
 */
export async function trySignIn(browser: TestBrowser, page: Page, consoleUrl: string, who: { username: string; password: string }, lang?: 'id' | 'en'): Promise<number> {
  await browser.context.clearCookies();
  await page.goto(lang ? `${consoleUrl}/lang?to=${lang}&back=/console/sign-in` : `${consoleUrl}/sign-in`);
  await page.fill('input[name=username]', who.username);
  await page.fill('input[name=password]', who.password);
  const posted = (answer: Response) => answer.request().method() === 'POST' && new URL(answer.url()).pathname.endsWith('/console/sign-in');
  const [answer] = await Promise.all([page.waitForResponse(posted), page.click('form.sign-in button[type=submit]')]);
  await page.waitForLoadState();
  return answer.status();
}

/**
 * Signs `who` in to the console at `consoleUrl` (its /console base) with no cookie of an earlier
 * user, landing on the payment list; with `lang`, then switches the labels to it.
 */
export async function signInToConsole(browser: TestBrowser, page: Page, consoleUrl: string, who: { username: string; password: string }, lang?: 'id' | 'en'): Promise<void> {
  await browser.context.clearCookies();
  await page.goto(`${consoleUrl}/sign-in`);
  await page.fill('input[name=username]', who.username);
  await page.fill('input[name=password]', who.password);
  await Promise.all([page.waitForURL(/\/console\/payments/), page.click('form.sign-in button[type=submit]')]);
  if (lang) await page.goto(`${consoleUrl}/lang?to=${lang}&back=/console/payments`);
}
