'use strict';
const db = require('./db.js');

/** The user with this id, or null. `options.role` limits the search to one role. */
async function findUser(id, options = {}) {
  const where = options.role === undefined ? { id } : { id, role: options.role };
  const [user] = await db.query('users', where);
  return user ?? null;
}

/** Throws when the user may not do `action`: only admins may refund. */
function checkPermission(user, action) {
  if (action === 'refund' && user.role !== 'admin') {
    throw new Error(`${user.name} may not ${action}`);
  }
  return true;
}

module.exports = { findUser, checkPermission };
