// Starts one object-store emulator on 127.0.0.1 for the storage tests and prints
// "READY <port>" once it listens. Usage: node start.js s3|azure <data-dir>
// The process runs until it is killed (the tests kill it). Both have the buckets (containers)
// "bucket" and "other".
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
  const port = Number(new URL(server.getHttpServerAddress()).port);
  for (const name of ['bucket', 'other']) {
    await createContainer(port, name);
  }
  return port;
}

// Create a container with a Shared Key request as the emulator's development account.
function createContainer(port, name) {
  const crypto = require('crypto');
  const http = require('http');
  const account = 'devstoreaccount1';
  const key = Buffer.from(
      'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
      'base64');
  const date = new Date().toUTCString();
  const version = '2021-08-06';
  const toSign = 'PUT\n\n\n\n\n\n\n\n\n\n\n\n' + 'x-ms-date:' + date + '\nx-ms-version:' + version +
                 '\n/' + account + '/' + account + '/' + name + '\nrestype:container';
  const signature = crypto.createHmac('sha256', key).update(toSign, 'utf8').digest('base64');
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1', port, method: 'PUT', path: '/' + account + '/' + name + '?restype=container',
      headers: {'x-ms-date': date, 'x-ms-version': version, 'Content-Length': 0,
                'Authorization': 'SharedKey ' + account + ':' + signature},
    }, (response) => {
      response.resume();
      if (response.statusCode === 201 || response.statusCode === 409) {
        resolve();
      } else {
        reject(new Error('creating container ' + name + ': HTTP ' + response.statusCode));
      }
    });
    request.on('error', reject);
    request.end();
  });
}

(kind === 's3' ? startS3() : startAzure())
  .then((port) => console.log('READY ' + port))
  .catch((e) => {
    console.error('emulator failed to start: ' + (e && e.stack || e));
    process.exit(1);
  });
