// A tiny app to try pm2-rs with: prints a line every second.
let n = 0;
setInterval(() => console.log(`hello from pm2-rs (${n++})`), 1000);
