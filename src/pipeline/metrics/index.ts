export { metricsStep, UNROUTED } from './metrics-step.js';
