import { Router } from 'express';
import type { Store } from '../../store/types.js';

/** Clients and console users, for admins only (the role check sits in front, in console-app.ts). */
export function adminRoutes(_deps: { store: Store; clock: () => number }): Router {
  return Router();
}
