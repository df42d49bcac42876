export { elapsedClock, isYoung } from './elapsed-clock.js';
export { jakartaDate, jakartaDay, jakartaDayStart, jakartaTimestamp } from './jakarta-time.js';
