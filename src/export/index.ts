export { formulaSafe, formulaSafeCsv } from './formula-safe-csv.js';
