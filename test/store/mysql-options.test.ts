import { expect } from 'chai';
import { createConnection, type Connection } from 'mysql2';
import { mysqlPoolOptions } from '../../src/store/mysql/mysql-options.js';
import { createMariaDbDatabase } from '../support/databases.js';

/** Runs a text query on `connection` by the driver's own callback API, answering its rows or its error. */
function textQuery(connection: Connection, sql: string, values?: unknown[]): Promise<unknown> {
  return new Promise((resolve) => {
    try {
      connection.query(sql, values, (error, rows) => resolve(error ?? rows));
    } catch (error) {
      resolve(error);
    }
  });
}

describe('MySQL connection options (mysqlPoolOptions)', () => {
  let database: { url: string; drop: () => Promise<void> };
  let connection: Connection;

  before(async function () {
    database = await createMariaDbDatabase(this);
    const { connectionLimit: _limit, waitForConnections: _wait, ...options } = mysqlPoolOptions(new URL(database.url));
    connection = createConnection(options);
  });

  after(async () => {
    await new Promise((resolve) => connection.end(resolve));
    await database.drop();
  });

  describe('a text query', () => {
    it('is sent as written, a ? inside a literal included', async () => {
      expect(await textQuery(connection, "SELECT 'a?b' AS v, X'3f' AS w")).to.deep.equal([{ v: 'a?b', w: Buffer.from('?') }]);
    });

    it('given values, is refused before anything is sent (values go prepared, never into the text)', async () => {
      const answer = await textQuery(connection, 'SELECT ? AS v', [1]);
      expect(answer).to.be.instanceOf(Error);
      expect((answer as Error).message).to.match(/text query was given values/);
      // The connection still answers.
      expect(await textQuery(connection, 'SELECT 1 AS ok')).to.deep.equal([{ ok: 1 }]);
    });
  });
});
