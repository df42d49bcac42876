import { html } from '../html.js';
import { BASE } from '../console-sessions.js';
import { layout, type PageContext } from './layout.js';

export function signInPage(ctx: PageContext, message: { kind: 'error' | 'info'; text: string } | null, username = ''): string {
  const { t } = ctx;
  return layout(
    ctx,
    t('signIn'),
    html`${message ? html`<p class="${message.kind}" role="alert">${message.text}</p>` : ''}
<form method="post" action="${BASE}/sign-in" class="sign-in">
  <label>${t('username')} <input name="username" autocomplete="username" required value="${username}"></label>
  <label>${t('password')} <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">${t('signIn')}</button>
</form>`,
  );
}
