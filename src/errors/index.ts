export { AppError, isAppError } from './app-error.js';
export type { ErrorCode, FieldError, AppErrorOptions } from './app-error.js';
