import type { ConsoleUser } from '../../store/types.js';
import { html, type Html } from '../html.js';
import type { Lang, Translate } from '../i18n.js';
import { BASE } from '../console-sessions.js';

export interface PageContext {
  t: Translate;
  lang: Lang;
  /** Path and query of this page, so the language switch comes back to it. */
  here: string;
  user?: ConsoleUser;
  csrfToken?: string;
  /** Sandbox mode: a banner on every page. */
  sandbox?: boolean;
}

/** A hidden form field with the session's CSRF token; every POST form carries one. */
export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrfToken ?? ''}">`;
}

/**
 * The page shell: navigation, language switch, who is signed in and the sign-out button. The
 * CSP forbids inline script and style, so everything visual comes from /console/assets.
 */
export function layout(ctx: PageContext, title: string, body: Html, scripts: string[] = []): string {
  const { t, user } = ctx;
  const nav = user
    ? html`<nav class="main">
        <a href="${BASE}/payments">${t('payments')}</a>
        <a href="${BASE}/runs">${t('runs')}</a>
        <a href="${BASE}/overview">${t('overview')}</a>
        <a href="${BASE}/review">${t('review')}</a>
        <a href="${BASE}/reconciliation">${t('reconciliation')}</a>
        ${user.role !== 'viewer' ? html`<a href="${BASE}/access-log">${t('accessLog')}</a>` : ''}
        ${user.role === 'admin' ? html`<a href="${BASE}/admin">${t('admin')}</a>` : ''}
        <span class="who">${user.username} (${user.role})</span>
        <form method="post" action="${BASE}/sign-out" class="inline">${csrfField(ctx)}<button type="submit">${t('signOut')}</button></form>
      </nav>`
    : '';
  const other = ctx.lang === 'id' ? 'en' : 'id';
  const langLink = html`<a class="lang" href="${BASE}/lang?to=${other}&back=${encodeURIComponent(ctx.here)}">${other === 'en' ? 'English' : 'Bahasa Indonesia'}</a>`;
  return html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${t('appName')}</title>
<link rel="stylesheet" href="${BASE}/assets/console.css">
</head>
<body>
<a class="skip" href="#content">${t('skipToContent')}</a>
<header><span class="brand">${t('appName')}</span>${nav}${langLink}</header>
${ctx.sandbox ? html`<p class="sandbox-banner" role="alert">${t('sandboxBanner')}</p>` : ''}
<main id="content">
<h1>${title}</h1>
${body}
</main>
${scripts.map((src) => html`<script src="${BASE}/assets/${src}"></script>`)}
</body>
</html>`.text;
}
