import { expect } from 'chai';
import { axeViolations, computedBackground, trySignIn } from '../support/browser.js';
import { browserConsole } from '../support/browser-console.js';

/** How many sign-ins a minute this suite's console takes from one address (GERBANG_CONSOLE_SIGN_IN_PER_IP). */
const PER_IP = 3;

/** The `.error` box of console.css, as the browser computes its background: the page is the console's, styled. */
const ERROR_BACKGROUND = 'rgb(253, 231, 231)';

/**
 * The console's sign-in throttle as a clerk's browser meets it (issue #14): failed sign-ins from
 * one address, each for a name of its own (so no user's lockout answers first), until the console
 * answers 429. What the browser shows then is the console's own sign-in page, styled, in the
 * page's language, saying to wait a minute, with the form to try again and no axe violation; a
 * right password from the same address is told the same (refused before any password is checked).
 */
describe('Finance console in a browser: too many sign-ins from one address get a page in the clerk’s language saying to wait', function () {
  this.timeout(120_000);

  const suite = browserConsole(undefined, {}, { consoleEnv: { GERBANG_CONSOLE_SIGN_IN_PER_IP: String(PER_IP) } });

  for (const lang of ['id', 'en'] as const) {
    const words =
      lang === 'id'
        ? { wait: 'Terlalu banyak percobaan masuk dari alamat ini. Tunggu satu menit lalu coba lagi.', failed: 'Nama pengguna atau kata sandi salah', title: 'Masuk' }
        : { wait: 'Too many sign-in attempts from this address. Wait a minute and try again.', failed: 'Wrong username or password', title: 'Sign in' };

    describe(`in ${lang === 'id' ? 'Bahasa Indonesia' : 'English'}`, () => {
      it('answers 429 within the allowance’s attempts and shows the styled sign-in page saying to wait, which axe passes', async () => {
        const { browser, page, con } = suite;
        // The minute's allowance may have begun with the other language's attempts, or ended meanwhile: try until told to wait.
        const statuses: number[] = [];
        while (statuses.at(-1) !== 429 && statuses.length <= PER_IP) {
          statuses.push(await trySignIn(browser, page, con.url, { username: `nobody.${lang}.${statuses.length}`, password: 'not-a-password-0123' }, lang));
          if (statuses.at(-1) === 401) expect(await page.textContent('[role=alert]'), 'a wrong password is said so').to.contain(words.failed);
        }
        expect(statuses.at(-1), `answers ${statuses.join(', ')}`).to.equal(429);
        expect(statuses.slice(0, -1).every((status) => status === 401), `answers ${statuses.join(', ')}`).to.equal(true);

        expect(page.url()).to.match(/\/console\/sign-in$/);
        expect(await page.getAttribute('html', 'lang')).to.equal(lang);
        expect(await page.title()).to.contain(words.title);
        const alert = page.locator('[role=alert]');
        expect(await alert.textContent()).to.equal(words.wait);
        expect(await computedBackground(page, '[role=alert]'), 'the console’s stylesheet applies').to.equal(ERROR_BACKGROUND);
        expect(await page.inputValue('input[name=username]'), 'the form to try again, the name kept').to.equal(`nobody.${lang}.${statuses.length - 1}`);
        expect(await page.locator('form.sign-in button[type=submit]').isVisible()).to.equal(true);
        expect(await axeViolations(page)).to.deep.equal([]);
      });

      it('tells the right password from the same address to wait as well, and does not let it in', async () => {
        const { browser, page, con, admin } = suite;
        expect(await trySignIn(browser, page, con.url, admin, lang)).to.equal(429);
        expect(page.url()).to.match(/\/console\/sign-in$/);
        expect(await page.textContent('[role=alert]')).to.equal(words.wait);
        expect((await browser.context.cookies()).map((c) => c.name), 'no session').to.not.include('gerbang_console');
      });
    });
  }
});
