#!/usr/bin/env node
// A leak from start in a third runtime (tests/scenarios/run.sh, scenarios node-*): a Node.js
// process whose V8 heap keeps RATE MiB/s of small JavaScript objects in a Map (a cache that is
// never evicted: the classic Node leak), collected by V8's own generational GC, in the Go
// workload's protocol: "READY pid=N mode=nodeleak", then with -wait-stdin one line on stdin, then
// "PHASE start/leak <ms>" and the leak until the OOM killer ends it.
//
// usage: node nodeleak.js -rate MIB_PER_S [-wait-stdin]
// Each entry (a Map key, an object with a number, a 48-character string and a 4-element array)
// takes about 384 bytes of V8 heap (process.memoryUsage().heapUsed after a full GC, Node 20), so
// 2730 entries a MiB; the process's RSS grows about 1.45 times as fast (V8's spaces, semi-spaces).
'use strict';
const args = process.argv.slice(2);
const rateIdx = args.indexOf('-rate');
const rate = rateIdx >= 0 ? Number(args[rateIdx + 1]) : 16;
const ENTRIES_PER_MIB = 2730;
console.log(`READY pid=${process.pid} mode=nodeleak`);

function leak() {
  const t0 = Date.now();
  console.log(`PHASE start ${Date.now()}`);
  console.log(`PHASE leak ${Date.now()}`);
  const cache = new Map();
  let n = 0;
  setInterval(() => {
    const want = Math.floor((Date.now() - t0) / 1000 * rate * ENTRIES_PER_MIB);
    for (; n < want; n++)
      cache.set('k' + n, {id: n, name: ('entry-' + n).padEnd(48, '.'), tags: [n, n + 1, n + 2, n + 3]});
  }, 50);
}

if (args.includes('-wait-stdin')) {
  let started = false;
  process.stdin.on('data', () => { if (!started) { started = true; leak(); } });
  process.stdin.on('end', () => { if (!started) process.exit(0); });
} else {
  leak();
}
