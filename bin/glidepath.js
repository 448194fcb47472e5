#!/usr/bin/env node
// Entry point of the `glidepath` command: runs the compiled CLI (npm run build makes dist/).
import('../dist/src/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli.js')) {
    process.stderr.write('glidepath: not built yet; run "npm run build" first\n');
    process.exit(1);
  }
  throw err;
});
