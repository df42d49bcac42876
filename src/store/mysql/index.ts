export { MysqlDb } from './mysql-db.js';
