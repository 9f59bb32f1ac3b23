// A PM2 module: an app that `pm2 install` runs beside the others, configured with
// `pm2 set <module>:<key> <value>` (each change restarts it with the new value).
//
//   pm2 install .            run it from this folder, restarted on every edit
//   pm2 logs <module>        its output
//   pm2 describe <module>    its metrics and actions
//   pm2 trigger <module> greet
//   pm2 uninstall <module>
'use strict';

const io = require('@pm2/io');

// The package.json `config` defaults, with the values `pm2 set` gave over them.
const conf = io.initModule({});

// A metric: shown by `pm2 describe` and `pm2 monit`, read by dashboards and exporters.
let ticks = 0;
io.metric({ name: 'ticks', value: () => ticks });
setInterval(() => {
  ticks += 1;
}, Number(conf.interval_ms) || 1000);

// An action: run on demand with `pm2 trigger`; its reply is printed there.
io.action('greet', (reply) => reply({ greeting: conf.greeting, ticks }));

console.log(`${conf.module_name} started: greeting=${conf.greeting}`);
