// A small HTTP app for the container example: one line per request, a graceful stop.
const http = require('http');

const port = Number(process.env.PORT) || 3000;
const worker = process.env.NODE_APP_INSTANCE || '0';
const server = http.createServer((req, res) => {
  res.end(`hello from worker ${worker} (${process.env.NODE_ENV || 'development'})\n`);
});
server.listen(port, () => console.log(`worker ${worker} listening on ${port}`));

// pm2-runtime stops its apps with SIGINT on `docker stop` (SIGTERM to PID 1).
process.on('SIGINT', () => {
  console.log(`worker ${worker} stopping`);
  server.close(() => process.exit(0));
});
