export { bodyParserStep } from './body-parser-step.js';
export type { BodyParserOptions } from './body-parser-step.js';
