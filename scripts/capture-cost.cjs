// One capture of each hostile value of issue 13 with livetrace's capturer (dist/cjs, so
// `npm run build` first), and the key listings it could use instead, in ms:
//   node scripts/capture-cost.cjs [keys]        (default 10^6 keys)
// docs/security.md quotes its figures. Not a test: timings depend on the machine.
'use strict';
const { join } = require('node:path');
const { Capturer } = require(join(__dirname, '../dist/cjs/agent/capture/capturer.js'));

const N = Number(process.argv[2] || 1e6);
function ms(f) {
  const start = process.hrtime.bigint();
  f();
  return (Number(process.hrtime.bigint() - start) / 1e6).toFixed(1);
}
const wide = {};
for (let i = 0; i < N; i++) wide['k' + i] = i;
const error = new Error('wide');
for (let i = 0; i < N; i++) error['f' + i] = i;
const longKey = { ['a' + 'x'.repeat(50_000_000)]: 1 };
const capturer = new Capturer({});
console.log(`keys: ${N}`);
console.log(`Object.keys: ${ms(() => Object.keys(wide))} ms`);
console.log(`for-in stopping after 20 keys: ${ms(() => {
  let n = 0;
  for (const key in wide) if (key && ++n >= 20) break;
})} ms`);
for (const [name, value] of [['object', wide], ['error', error], ['50M-character key', longKey]]) {
  console.log(`capture ${name}: first ${ms(() => capturer.capture(value))} ms, second ${ms(() => capturer.capture(value))} ms`);
}
