'use strict';
// A pretend database: rows in memory, answered after a few milliseconds, like a real one.
// Every 7th query is slow (about 150 ms), the kind of outlier a latency histogram shows.

const tables = {
  users: [
    { id: 1, name: 'ada', role: 'admin', password: 'correct horse' },
    { id: 2, name: 'grace', role: 'customer', password: 'battery staple' },
    { id: 3, name: 'linus', role: 'customer', password: 'hunter2' },
  ],
  orders: [
    { id: 1, ownerId: 2, total: 120 },
    { id: 2, ownerId: 3, total: 35 },
    { id: 3, ownerId: 2, total: 18 },
    // A guest checkout: no account, so no owner.
    { id: 4, ownerId: null, total: 64 },
  ],
};

let queries = 0;

/** query('users', { id: 1 }) resolves to the matching rows. */
function query(table, where) {
  queries++;
  const delay = queries % 7 === 0 ? 150 : 2 + (queries % 3);
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      const rows = tables[table];
      if (rows === undefined) {
        reject(new Error(`no table ${table}`));
        return;
      }
      resolve(rows.filter((row) => Object.keys(where).every((key) => row[key] === where[key])));
    }, delay);
  });
}

module.exports = { query };
