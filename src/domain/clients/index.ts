export { allowlistProblems, createClient, rotateClientSecret, setClientAllowlists } from './client-admin.js';
