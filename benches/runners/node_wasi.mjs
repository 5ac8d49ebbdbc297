// Run a WASI preview1 command module on node's built-in node:wasi (V8: Liftoff + TurboFan).
//
//     node --no-warnings node_wasi.mjs [--dir HOST::GUEST]... MODULE.wasm [ARGS...]
//
// Exits with the guest's exit code. node:wasi is experimental; in node 20 writing to a pipe
// can fail with EAGAIN, so the stdin->stdout benchmark may be reported as failed for node.
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { WASI } from 'node:wasi';

let argv = process.argv.slice(2);
const preopens = {};
while (argv.length >= 2 && argv[0] === '--dir') {
  const [host, guest] = argv[1].split('::');
  preopens[guest ?? host] = host;
  argv = argv.slice(2);
}
if (argv.length === 0) {
  process.stderr.write('usage: node_wasi.mjs [--dir HOST::GUEST]... MODULE.wasm [ARGS...]\n');
  process.exit(2);
}
const [modulePath, ...args] = argv;
const wasi = new WASI({ version: 'preview1', args: [modulePath, ...args], env: {}, preopens, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(modulePath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
