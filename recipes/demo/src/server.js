'use strict';
// The demo service of the livetrace recipes. Listens on 127.0.0.1, on DEMO_PORT or a
// free port, and prints one readiness line: `demo listening on http://127.0.0.1:<port> (pid <pid>)`.
//
//   GET  /users/:id                  a user
//   GET  /orders/:id/owner           the owner of an order (passes null for guest orders)
//   GET  /orders/:id/total           the total with tax (throws for unknown orders)
//   POST /orders/:id/refund?user=N   only admins may refund (throws for others)
const http = require('node:http');
const routes = require('./routes.js');

const table = [
  ['GET', /^\/users\/(\d+)$/, (m) => routes.showUser(Number(m[1]))],
  ['GET', /^\/orders\/(\d+)\/owner$/, (m) => routes.orderOwner(Number(m[1]))],
  ['GET', /^\/orders\/(\d+)\/total$/, (m) => routes.orderTotal(Number(m[1]))],
  ['POST', /^\/orders\/(\d+)\/refund$/, (m, url) => routes.refund(Number(m[1]), Number(url.searchParams.get('user')))],
];

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  let result = { status: 404, body: { error: 'not found' } };
  try {
    for (const [method, path, handle] of table) {
      const match = path.exec(url.pathname);
      if (match !== null && req.method === method) {
        result = await handle(match, url);
        break;
      }
    }
  } catch (error) {
    result = { status: 500, body: { error: error.message } };
  }
  res.writeHead(result.status, { 'content-type': 'application/json' }).end(JSON.stringify(result.body));
});

server.listen(Number(process.env.DEMO_PORT ?? 0), '127.0.0.1', () => {
  console.log(`demo listening on http://127.0.0.1:${server.address().port} (pid ${process.pid})`);
});
