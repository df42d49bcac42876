import type { Response } from 'express';
import type { ConsoleSession, ConsoleUser } from '../store/types.js';
import { translator, type Lang, type Translate } from './i18n.js';

/** What the console's steps leave for its routes on `res.locals.console`. */
export interface ConsoleLocals {
  lang: Lang;
  t: Translate;
  /** Set by the session step on every signed-in route. */
  user?: ConsoleUser;
  session?: ConsoleSession;
  /** GERBANG_SANDBOX=true: every page says no money moves. */
  sandbox?: boolean;
}

export function consoleLocals(res: Response): ConsoleLocals {
  const locals = res.locals as { console?: ConsoleLocals };
  locals.console ??= { lang: 'id', t: translator('id') };
  return locals.console;
}

/** The signed-in user and session; only called behind the session step. */
export function signedIn(res: Response): ConsoleLocals & { user: ConsoleUser; session: ConsoleSession } {
  const locals = consoleLocals(res);
  if (!locals.user || !locals.session) throw new Error('console: route reached without the session step');
  return locals as ConsoleLocals & { user: ConsoleUser; session: ConsoleSession };
}
