import { AppError, type FieldError } from '../errors/index.js';
import { hashSecret } from '../security/index.js';
import {
  CONSOLE_ROLES,
  UniqueViolationError,
  type ConsoleRole,
  type ConsoleSessionRepository,
  type ConsoleUser,
  type ConsoleUserRepository,
  type LoginLockoutRepository,
} from '../store/types.js';
import { unlockConsoleUser } from './sign-in-use-case.js';

const USERNAME = /^[A-Za-z0-9._@-]{3,64}$/;
export const MIN_PASSWORD_LENGTH = 12;

/**
 * Creates a console user (only the scrypt hash of the password is kept). Used by
 * `gerbang user create` and the admin page. Throws AppError('VALIDATION_FAILED') naming the
 * field for a bad username, role or password, and for a username already taken.
 */
export async function createConsoleUser(
  users: ConsoleUserRepository,
  input: { username: string; password: string; role: string },
  now: number,
): Promise<ConsoleUser> {
  const problems = checkUserInput(input);
  if (problems.length > 0) throw invalid(problems);
  try {
    return await users.create({ username: input.username, passwordHash: await hashSecret(input.password), role: input.role as ConsoleRole }, now);
  } catch (error) {
    if (error instanceof UniqueViolationError) throw invalid([{ field: 'username', message: `username ${JSON.stringify(input.username)} is already taken`, rule: 'username-taken', value: input.username }]);
    throw error;
  }
}

/**
 * Sets a console user's new password (`gerbang user reset-password`, the admin page): only its
 * scrypt hash is kept, the user's sessions end, and every lockout of the user is lifted. Returns
 * null when there is no such user; throws AppError('VALIDATION_FAILED') naming `password` when
 * it is too short.
 */
export async function resetConsolePassword(
  deps: { users: ConsoleUserRepository; sessions: ConsoleSessionRepository; lockouts: LoginLockoutRepository },
  username: string,
  password: string,
  now: number,
): Promise<ConsoleUser | null> {
  if (password.length < MIN_PASSWORD_LENGTH) throw invalid([{ field: 'password', message: `password must be at least ${MIN_PASSWORD_LENGTH} characters`, rule: 'password-short' }]);
  const user = await deps.users.findByUsername(username);
  if (!user) return null;
  await deps.users.update(user.id, { passwordHash: await hashSecret(password) }, now);
  await deps.sessions.deleteForUser(user.id);
  await unlockConsoleUser(deps.lockouts, user.username);
  return user;
}

export function checkUserInput(input: { username: string; password: string; role: string }): FieldError[] {
  const problems: FieldError[] = [];
  if (!USERNAME.test(input.username)) problems.push({ field: 'username', message: 'username must be 3–64 letters, digits or . _ @ -', rule: 'bad-username', value: input.username });
  if (!CONSOLE_ROLES.includes(input.role as ConsoleRole)) problems.push({ field: 'role', message: `role must be one of ${CONSOLE_ROLES.join(', ')}`, rule: 'bad-role', value: input.role });
  if (input.password.length < MIN_PASSWORD_LENGTH) problems.push({ field: 'password', message: `password must be at least ${MIN_PASSWORD_LENGTH} characters`, rule: 'password-short' });
  return problems;
}

function invalid(problems: FieldError[]): AppError {
  return new AppError('VALIDATION_FAILED', problems.map((p) => p.message).join('; '), { fields: problems });
}
