export { AppError, IntegrityError, isAppError, statusOfCode, ERROR_CODES } from './app-error.js';
export type { ErrorCode, FieldError, AppErrorOptions } from './app-error.js';
