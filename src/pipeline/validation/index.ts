export { validationStep, validationError } from './validation-step.js';
