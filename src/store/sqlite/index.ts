export { SqliteDb, MEMORY_PATH } from './sqlite-db.js';
