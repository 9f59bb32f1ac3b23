// The Node API side of `bench/run.py nodeapi`, run with PM2 7's npm client against the
// daemon of $PM2_HOME (argv[2]: the pm2 package folder).
//   list RUNS WARMUP  -> {"list_ms": [...]}: wall time of each `pm2.list()` call
//   bus LINES SCRIPT  -> {"lines": n, "secs": s}: a subscriber counts the log:out lines
//                        of an app that prints LINES lines, from the first to the last
'use strict';
const pm2 = require(process.argv[2]);
const [mode, a, b] = process.argv.slice(3);
const p = (fn, ...args) => new Promise((res, rej) => fn.call(pm2, ...args, (e, r) => (e ? rej(e) : res(r))));
const done = (out) => { console.log(JSON.stringify(out)); pm2.disconnect(); setTimeout(() => process.exit(0), 50); };
(async () => {
  await p(pm2.connect);
  if (mode === 'list') {
    const runs = Number(a), warm = Number(b), out = [];
    for (let i = 0; i < warm + runs; i++) {
      const t0 = process.hrtime.bigint();
      await p(pm2.list);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i >= warm) out.push(ms);
    }
    return done({ list_ms: out });
  }
  const want = Number(a);
  const bus = await p(pm2.launchBus);
  let seen = 0, first = 0, last = 0, partial = '';
  bus.on('log:out', (pkt) => {
    if (pkt.process.name !== 'bus-spew') return;
    const text = partial + pkt.data;
    const lines = text.split('\n');
    partial = lines.pop();
    if (!first) first = Date.now();
    seen += lines.length;
    last = Date.now();
    if (seen >= want) done({ lines: seen, secs: (last - first) / 1000 });
  });
  await p(pm2.start, { script: b, name: 'bus-spew', args: [String(want)], autorestart: false });
  setTimeout(() => done({ lines: seen, secs: (last - first) / 1000, timed_out: true }), 120000);
})().catch((e) => { console.log(JSON.stringify({ error: String(e && e.message) })); process.exit(1); });
