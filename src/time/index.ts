export { jakartaDate, jakartaTimestamp } from './jakarta-time.js';
