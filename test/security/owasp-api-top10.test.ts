import { forEachBackend } from '../support/databases.js';
import { unsafeConsumptionSuite } from './owasp-api10-hostile-bank.js';

forEachBackend('OWASP API Security Top 10 (2023)', (db) => {
  unsafeConsumptionSuite(db);
});
