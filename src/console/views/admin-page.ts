import type { FieldError } from '../../errors/index.js';
import type { ClientRecord, ConsoleUser } from '../../store/types.js';
import { CONSOLE_ROLES } from '../../store/types.js';
import { fieldErrorText } from '../field-errors.js';
import { formatWhen } from '../format.js';
import { html } from '../html.js';
import { BASE } from '../console-sessions.js';
import { csrfField, layout, type PageContext } from './layout.js';

export interface AdminView {
  clients: ClientRecord[];
  users: ConsoleUser[];
  /** The accounts each client may use, by client id. */
  grants?: Record<string, string[]>;
  /** A client secret just made: shown once, here, never stored in clear. */
  secret?: { clientId: string; clientSecret: string };
  errors?: FieldError[];
  notice?: string;
  /** The form whose submission was refused, with what was typed (never a password), to show back. */
  typed?: TypedForm;
}

/** `create-client`, `create-user`, `allowlists:<clientId>` or `accounts:<clientId>`, and its fields as typed. */
export interface TypedForm {
  form: string;
  values: Record<string, string>;
}

export function adminPage(ctx: PageContext, view: AdminView): string {
  const { t } = ctx;
  const csrf = csrfField(ctx);
  const lines = (values: string[]) => values.join('\n');
  /** What the admin typed in `form`'s field `name` when that form was refused, else `fallback`. */
  const typed = (form: string, name: string, fallback = '') => (view.typed?.form === form ? (view.typed.values[name] ?? fallback) : fallback);
  const notices = html`
${view.notice ? html`<p class="ok" role="status">${view.notice}</p>` : ''}
${view.errors && view.errors.length > 0 ? html`<div class="error" role="alert"><ul>${view.errors.map((e) => html`<li data-field="${e.field}">${fieldErrorText(t, e)}</li>`)}</ul></div>` : ''}
${view.secret ? html`<div class="info" role="status" id="new-secret"><p>${t('secretShownOnce')}</p><p class="secret">client_id: <span class="client-id">${view.secret.clientId}</span><br>client_secret: <span class="client-secret">${view.secret.clientSecret}</span></p></div>` : ''}`;

  const clients = html`<h2>${t('clients')}</h2>
<div class="table-wrap"><table class="clients"><thead><tr><th>client_id</th><th>${t('name')}</th><th>${t('status')}</th><th>${t('allowedOrigins')} / ${t('allowedCidrs')} (${t('onePerLine')})</th><th>${t('grantedAccounts')} (${t('onePerLine')})</th><th><span class="visually-hidden">${t('actions')}</span></th></tr></thead><tbody>
${view.clients.map(
  (c) => html`<tr data-client-id="${c.id}"><td><code>${c.id}</code></td><td>${c.name}</td><td>${c.status === 'active' ? t('active') : t('disabled')}${c.signing.required ? html`<br><span class="signing">${t('signedRequests')}</span>` : ''}</td>
<td><form method="post" action="${BASE}/admin/clients/${c.id}/allowlists" class="allowlists">${csrf}
<textarea name="origins" rows="2" aria-label="${t('allowedOrigins')}">${typed(`allowlists:${c.id}`, 'origins', lines(c.allowedOrigins))}</textarea>
<textarea name="cidrs" rows="2" aria-label="${t('allowedCidrs')}">${typed(`allowlists:${c.id}`, 'cidrs', lines(c.allowedCidrs))}</textarea>
<button type="submit">${t('save')}</button></form></td>
<td><ul class="granted">${(view.grants?.[c.id] ?? []).map((account) => html`<li>${account}</li>`)}</ul>
<form method="post" action="${BASE}/admin/clients/${c.id}/accounts" class="accounts">${csrf}
<textarea name="grant" rows="1" aria-label="${t('grantAccounts')}" placeholder="${t('grantAccounts')}">${typed(`accounts:${c.id}`, 'grant')}</textarea>
<textarea name="revoke" rows="1" aria-label="${t('revokeAccounts')}" placeholder="${t('revokeAccounts')}">${typed(`accounts:${c.id}`, 'revoke')}</textarea>
<button type="submit">${t('save')}</button></form></td>
<td>${c.status === 'active'
    ? html`<a class="button toggle" href="${BASE}/admin/clients/${c.id}/confirm/disable">${t('disable')}</a>`
    : html`<form method="post" action="${BASE}/admin/clients/${c.id}/status" class="inline">${csrf}<input type="hidden" name="status" value="active"><button type="submit" class="toggle">${t('enable')}</button></form>`}
<a class="button rotate" href="${BASE}/admin/clients/${c.id}/confirm/rotate">${t('rotateSecret')}</a></td></tr>
${c.integrityProblem !== undefined ? html`<tr class="integrity-failed"><td colspan="6"><p class="error" role="alert">${t('clientIntegrityFailed').replace('{name}', c.name)}</p></td></tr>` : ''}
${c.allowedCidrs.length === 0 ? html`<tr class="no-address"><td colspan="6"><p class="warning" role="note">${t('noAllowedAddress').replace('{name}', c.name)}</p></td></tr>` : ''}`,
)}</tbody></table></div>
<form method="post" action="${BASE}/admin/clients" class="admin-form" id="create-client">${csrf}
<label>${t('name')} <input name="name" required maxlength="191" value="${typed('create-client', 'name')}"></label>
<label>${t('allowedOrigins')} (${t('onePerLine')}) <textarea name="origins" rows="2">${typed('create-client', 'origins')}</textarea></label>
<label>${t('allowedCidrs')} (${t('onePerLine')}) <textarea name="cidrs" rows="2">${typed('create-client', 'cidrs')}</textarea></label>
<button type="submit">${t('create')}</button></form>`;

  const roleSelect = (selected: string, label: string) => html`<select name="role" aria-label="${label}">${CONSOLE_ROLES.map((r) => html`<option value="${r}"${r === selected ? html` selected` : ''}>${r}</option>`)}</select>`;
  const users = html`<h2>${t('users')}</h2>
<div class="table-wrap"><table class="users"><thead><tr><th>${t('username')}</th><th>${t('role')}</th><th>${t('status')}</th><th>${t('created')}</th><th><span class="visually-hidden">${t('actions')}</span></th></tr></thead><tbody>
${view.users.map(
  (u) => html`<tr data-username="${u.username}"><td>${u.username}</td>
<td><form method="post" action="${BASE}/admin/users/${u.id}" class="inline">${csrf}${roleSelect(u.role, `${t('role')}: ${u.username}`)}<button type="submit">${t('save')}</button></form></td>
<td>${u.status === 'active' ? t('active') : t('disabled')}</td><td>${formatWhen(ctx.lang, u.createdAt)}</td>
<td><form method="post" action="${BASE}/admin/users/${u.id}" class="inline">${csrf}<input type="hidden" name="status" value="${u.status === 'active' ? 'disabled' : 'active'}"><button type="submit" class="toggle">${u.status === 'active' ? t('disable') : t('enable')}</button></form>
<form method="post" action="${BASE}/admin/users/${u.id}/unlock" class="inline">${csrf}<button type="submit" class="unlock">${t('unlockUser')}</button></form>
<form method="post" action="${BASE}/admin/users/${u.id}/password" class="inline reset-password">${csrf}<input name="password" type="password" required minlength="12" autocomplete="new-password" aria-label="${t('newPassword')}: ${u.username}" placeholder="${t('newPassword')}"><button type="submit">${t('resetPassword')}</button></form></td></tr>
${u.integrityProblem !== undefined ? html`<tr class="integrity-failed" data-flagged-user="${u.username}"><td colspan="5"><p class="error" role="alert">${t('userIntegrityFailed').replace('{name}', u.username)}<br>${t('integrityFound')}: <code class="integrity-problem">${u.integrityProblem}</code></p></td></tr>` : ''}`,
)}</tbody></table></div>
<form method="post" action="${BASE}/admin/users" class="admin-form" id="create-user">${csrf}
<label>${t('username')} <input name="username" required maxlength="64" value="${typed('create-user', 'username')}"></label>
<label>${t('role')} ${roleSelect(typed('create-user', 'role', 'viewer'), t('role'))}</label>
<label>${t('password')} <input name="password" type="password" required minlength="12" autocomplete="new-password"></label>
<button type="submit">${t('create')}</button></form>`;

  return layout(ctx, t('admin'), html`${notices}${clients}${users}`);
}

/** The page that names the client before its secret is rotated or it is disabled. */
export function confirmPage(ctx: PageContext, client: ClientRecord, action: 'rotate' | 'disable', fingerprint: string): string {
  const { t } = ctx;
  const question = (action === 'rotate' ? t('confirmRotate') : t('confirmDisable')).replace('{name}', client.name).replace('{id}', client.id);
  const target = action === 'rotate' ? `${BASE}/admin/clients/${client.id}/rotate` : `${BASE}/admin/clients/${client.id}/status`;
  return layout(
    ctx,
    action === 'rotate' ? t('rotateSecret') : t('disable'),
    html`<div class="warning" role="alert" id="confirm-question"><p>${question}</p></div>
<form method="post" action="${target}" class="admin-form" id="confirm-form">${csrfField(ctx)}
<input type="hidden" name="fingerprint" value="${fingerprint}">${action === 'disable' ? html`<input type="hidden" name="status" value="disabled">` : ''}
<button type="submit" id="confirm-yes">${action === 'rotate' ? t('rotateSecret') : t('disable')}: ${client.name}</button>
<a href="${BASE}/admin">${t('cancel')}</a></form>`,
  );
}
