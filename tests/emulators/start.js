// Starts one object-store emulator on 127.0.0.1 for the storage tests and prints
// "READY <port>" once it listens. Usage: node start.js s3|s3-plain|azure|gcs <data-dir>
// (s3-plain: s3rver without our create-only-PUT middleware, a store that ignores If-None-Match).
// The process runs until it is killed (the tests kill it). Each has the buckets (containers)
// "bucket" and "other". gcs is our own (gcs.js); it writes its credential files into <data-dir>.
// s3 and s3-plain also serve container credentials at /_aqueducts_test/container-credentials.
'use strict';
const kind = process.argv[2];
const dir = process.argv[3];
if (!kind || !dir) {
  console.error('usage: node start.js s3|s3-plain|azure|gcs <data-dir>');
  process.exit(2);
}

async function startS3(conditional = true) {
  const S3rver = require('@20minutes/s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: [{name: 'bucket'}, {name: 'other'}],
  });
  // s3rver ignores If-None-Match on PUT; S3 itself answers 412 when the key exists. Delta commits
  // rely on that, so this middleware (first in the chain) adds it: create-only PUTs of one key
  // are serialised, and each checks the store before s3rver handles it.
  if (conditional) server.middleware.unshift(createOnlyPuts());
  server.middleware.unshift(containerCredentials());
  const address = await server.run();
  return address.port;
}

// A container credentials endpoint, as the ECS agent serves it: GET with the authorization token
// "test-container-token" answers the emulator's credentials (S3RVER / S3RVER) with a session
// token and an expiry an hour ahead; any other token is refused with 401.
function containerCredentials() {
  return async (ctx, next) => {
    if (ctx.path !== '/_aqueducts_test/container-credentials') return next();
    if (ctx.get('authorization') !== 'test-container-token') {
      ctx.status = 401;
      ctx.type = 'application/json';
      ctx.body = JSON.stringify({code: 'AccessDenied', message: 'invalid authorization token'});
      return;
    }
    ctx.type = 'application/json';
    ctx.body = JSON.stringify({
      AccessKeyId: 'S3RVER', SecretAccessKey: 'S3RVER', Token: 'container-session-token',
      Expiration: new Date(Date.now() + 3600 * 1000).toISOString(),
    });
  };
}

function createOnlyPuts() {
  const tails = new Map();  // "bucket/key" -> the promise the latest create-only PUT resolves
  return async (ctx, next) => {
    if (ctx.method !== 'PUT' || ctx.get('if-none-match') !== '*' || 'uploadId' in ctx.query) {
      return next();
    }
    const slash = ctx.path.indexOf('/', 1);
    const bucket = decodeURIComponent(ctx.path.slice(1, slash));
    const key = decodeURIComponent(ctx.path.slice(slash + 1));
    const id = bucket + '/' + key;
    const before = tails.get(id) || Promise.resolve();
    let release;
    const done = new Promise((resolve) => { release = resolve; });
    const mine = before.then(() => done);
    tails.set(id, mine);
    await before;
    try {
      if (await ctx.app.store.existsObject(bucket, key)) {
        ctx.status = 412;
        ctx.type = 'application/xml';
        ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code>' +
                   '<Message>At least one of the pre-conditions you specified did not hold' +
                   '</Message></Error>';
        return;
      }
      await next();
    } finally {
      release();
      if (tails.get(id) === mine) tails.delete(id);
    }
  };
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

const starters = {
  's3': startS3,
  's3-plain': () => startS3(false),
  'azure': startAzure,
  'gcs': () => require('./gcs.js').start(dir),
};
if (!starters[kind]) {
  console.error('start.js: unknown emulator ' + kind);
  process.exit(2);
}
starters[kind]()
  .then((port) => console.log('READY ' + port))
  .catch((e) => {
    console.error('emulator failed to start: ' + (e && e.stack || e));
    process.exit(1);
  });
