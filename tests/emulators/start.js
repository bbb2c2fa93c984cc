// Starts one object-store emulator on 127.0.0.1 for the storage tests and prints
// "READY <port>" once it listens. Usage: node start.js s3|azure <data-dir>
// The process runs until it is killed (the tests kill it).
'use strict';
const kind = process.argv[2];
const dir = process.argv[3];
if (!kind || !dir) {
  console.error('usage: node start.js s3|azure <data-dir>');
  process.exit(2);
}

async function startS3() {
  const S3rver = require('@20minutes/s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: [{name: 'bucket'}, {name: 'other'}],
  });
  const address = await server.run();
  return address.port;
}

async function startAzure() {
  const BlobServer = require('azurite/dist/src/blob/BlobServer').default;
  const BlobConfiguration = require('azurite/dist/src/blob/BlobConfiguration').default;
  // Arguments in BlobConfiguration's order: host, port, keep-alive, metadata DB, extent DB,
  // persistence paths, access log, its stream, debug log, its path, loose, skip API version
  // check, cert, key, pwd, oauth, no product-style URLs, in-memory persistence.
  const config = new BlobConfiguration('127.0.0.1', 0, undefined, dir + '/meta.json',
                                       dir + '/extent.json', undefined, false, undefined, false,
                                       undefined, true, true, '', '', '', undefined, false, true);
  const server = new BlobServer(config);
  await server.start();
  return Number(new URL(server.getHttpServerAddress()).port);
}

(kind === 's3' ? startS3() : startAzure())
  .then((port) => console.log('READY ' + port))
  .catch((e) => {
    console.error('emulator failed to start: ' + (e && e.stack || e));
    process.exit(1);
  });
