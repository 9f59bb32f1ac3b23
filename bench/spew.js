// Prints argv[2] numbered lines as fast as stdout takes them, then exits 0.
const n = Number(process.argv[2] || 100000);
let i = 0;
function more() {
  while (i < n) {
    if (!process.stdout.write(`line ${i++} of the bus benchmark\n`)) return process.stdout.once('drain', more);
  }
}
more();
