import type { FieldError } from '../errors/index.js';
import { CONSOLE_ROLES } from '../store/types.js';
import { MIN_PASSWORD_LENGTH } from './console-users.js';
import { fill, type LabelKey, type Translate } from './i18n.js';

/** The admin and review forms' rules (FieldError.rule) and their words. */
const RULES: Record<string, LabelKey> = {
  'not-cidr': 'fieldErr_not-cidr',
  'cidr-prefix': 'fieldErr_cidr-prefix',
  'not-origin': 'fieldErr_not-origin',
  'name-required': 'fieldErr_name-required',
  'not-account': 'fieldErr_not-account',
  'bad-username': 'fieldErr_bad-username',
  'username-taken': 'fieldErr_username-taken',
  'bad-role': 'fieldErr_bad-role',
  'password-short': 'fieldErr_password-short',
  'own-role-or-status': 'fieldErr_own-role-or-status',
  'own-password': 'fieldErr_own-password',
  'review-outcome': 'fieldErr_review-outcome',
  'review-evidence-kind': 'fieldErr_review-evidence-kind',
  'review-evidence': 'fieldErr_review-evidence',
  'review-not-found': 'fieldErr_review-not-found',
  'review-not-in-queue': 'fieldErr_review-not-in-queue',
  'review-forbidden': 'fieldErr_review-forbidden',
};

/** The label of the form field an error names. */
const FIELDS: Record<string, LabelKey> = {
  cidr: 'allowedCidrs',
  origin: 'allowedOrigins',
  name: 'name',
  accounts: 'grantedAccounts',
  username: 'username',
  role: 'role',
  password: 'password',
  outcome: 'outcome',
  evidenceKind: 'evidenceKind',
  evidence: 'evidence',
};

/**
 * A form's error in the page's language, naming the field by its label and the value typed;
 * an error of a rule not listed here as its message says it.
 */
export function fieldErrorText(t: Translate, error: FieldError): string {
  const rule = error.rule !== undefined && Object.hasOwn(RULES, error.rule) ? RULES[error.rule] : null;
  if (rule === null) return error.message;
  const field = Object.hasOwn(FIELDS, error.field) ? t(FIELDS[error.field]) : error.field;
  return fill(t(rule), { field, value: error.value ?? '', roles: CONSOLE_ROLES.join(', '), n: MIN_PASSWORD_LENGTH });
}
