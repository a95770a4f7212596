#!/usr/bin/env node
// s3rver-sigv4.js — launcher for @20minutes/s3rver 5.0.0, which has no CLI of its own.
// Usage: node --openssl-legacy-provider s3rver-sigv4.js --directory DIR --bucket NAME [--port N]
//             [--key server.key --cert server.pem]
// Binds 127.0.0.1 (port 0 = the kernel picks), verifies SigV4 (credentials S3RVER / S3RVER), serves HTTPS
// when --key and --cert are given (the fork passes them to https.createServer), and prints
// "listening on http(s)://127.0.0.1:PORT" once it accepts connections: the start script reads the port there.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const S3rver = require(path.join(__dirname, 'node_modules', '@20minutes', 's3rver'));

function parseArgs(argv) {
  const known = new Set(['--directory', '--bucket', '--port', '--key', '--cert']);
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!known.has(argv[i]) || argv[i + 1] === undefined) {
      console.error(`usage: s3rver-sigv4.js --directory DIR --bucket NAME [--port N] [--key K --cert C] (bad: ${argv[i]})`);
      process.exit(2);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  if (!out.directory || !out.bucket) {
    console.error('s3rver-sigv4.js: --directory and --bucket are required');
    process.exit(2);
  }
  if (!!out.key !== !!out.cert) {
    console.error('s3rver-sigv4.js: --key and --cert go together');
    process.exit(2);
  }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.directory, { recursive: true });
  const options = {
    address: '127.0.0.1',
    port: Number(args.port || 0),
    directory: args.directory,
    silent: true,
    configureBuckets: [{ name: args.bucket }],
  };
  const tls = Boolean(args.key);
  if (tls) {
    options.key = fs.readFileSync(args.key);
    options.cert = fs.readFileSync(args.cert);
  }
  const server = new S3rver(options);
  const { address, port } = await server.run();
  console.log(`listening on ${tls ? 'https' : 'http'}://${address}:${port}`);
  // Nothing to flush (objects are files already written): exit at once rather than wait for keep-alive
  // connections that server.close() would wait for.
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
