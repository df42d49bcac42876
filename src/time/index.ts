export { jakartaDate, jakartaDay, jakartaDayStart, jakartaTimestamp } from './jakarta-time.js';
