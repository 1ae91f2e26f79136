'use strict';
const orders = require('./orders.js');
const users = require('./users.js');

// GET /users/:id
async function showUser(id) {
  const user = await users.findUser(id);
  return user === null ? { status: 404, body: { error: 'no such user' } } : { status: 200, body: { id: user.id, name: user.name } };
}

// GET /orders/:id/owner: the bug. A guest order has no owner, and this handler passes
// its ownerId (null) to findUser without checking.
async function orderOwner(id) {
  const order = await orders.findOrder(id);
  if (order === null) return { status: 404, body: { error: 'no such order' } };
  const owner = await users.findUser(order.ownerId, { role: 'customer' });
  return { status: 200, body: { order: order.id, owner: owner?.name ?? null } };
}

// GET /orders/:id/total: throws (a TypeError) for an order that does not exist.
async function orderTotal(id) {
  const order = await orders.findOrder(id);
  return { status: 200, body: { order: id, total: orders.totalWithTax(order) } };
}

// POST /orders/:id/refund?user=<id>: only admins may refund; others get an exception.
async function refund(id, userId) {
  const user = await users.findUser(userId);
  users.checkPermission(user, 'refund');
  return { status: 200, body: { refunded: id } };
}

module.exports = { showUser, orderOwner, orderTotal, refund };
