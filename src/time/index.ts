export { elapsedClock, isYoung } from './elapsed-clock.js';
export { jakartaDate, jakartaDateOf, jakartaDay, jakartaDayStart, jakartaTimestamp } from './jakarta-time.js';
