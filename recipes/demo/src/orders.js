'use strict';
const db = require('./db.js');

async function findOrder(id) {
  const [order] = await db.query('orders', { id });
  return order ?? null;
}

/** The total with tax; throws a TypeError for an order that does not exist. */
function totalWithTax(order) {
  return Math.round(order.total * 1.2 * 100) / 100;
}

module.exports = { findOrder, totalWithTax };
