// Starts one object-store emulator on 127.0.0.1 for the storage tests and prints
// "READY <port>" once it listens. Usage: node start.js s3|s3-plain|azure|gcs <data-dir>
// (s3-plain: s3rver without our create-only-PUT middleware, a store that ignores If-None-Match).
// The process runs until it is killed (the tests kill it). Each has the buckets (containers)
// "bucket" and "other". gcs is our own (gcs.js); it writes its credential files into <data-dir>.
// s3 and s3-plain also serve container credentials at /_aqueducts_test/container-credentials,
// and fail requests on demand (/_aqueducts_test/faults, injectedFailures below).
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
  server.middleware.unshift(pendingUploads());
  server.middleware.unshift(injectedFailures());  // first: it may stand in for the whole chain
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

// Failures on demand, for the retry tests. PUT /_aqueducts_test/faults?prefix=/bucket/k&count=K
// [&status=503][&retry_after=S][&method=PUT][&query=partNumber][&mode=before|after] adds a rule:
// of the requests whose path starts with `prefix` (and that have the method, and the query
// parameter, when given), the first K are failed with `status` (and a Retry-After header of S
// seconds when given); later ones go through. Mode "before" (the default) answers the failure
// in place of the store, which never sees the request; mode "after" passes the request on and
// then replaces the store's answer by the failure: the store did what was asked, but the client
// is told it failed (a lost answer). GET answers the rules as JSON, each with `seen` (requests
// matched) and `failed` (requests failed); DELETE removes every rule. A request is counted by
// the first matching rule that still has failures to give, else by the first matching rule.
function injectedFailures() {
  const rules = [];
  return async (ctx, next) => {
    if (ctx.path === '/_aqueducts_test/faults') {
      if (ctx.method === 'PUT') {
        const q = ctx.query;
        rules.push({
          prefix: q.prefix || '/', method: q.method || '', query: q.query || '',
          count: Number(q.count || 0), status: Number(q.status || 503),
          retryAfter: q.retry_after || '', mode: q.mode || 'before', seen: 0, failed: 0,
        });
        ctx.status = 204;
      } else if (ctx.method === 'DELETE') {
        rules.length = 0;
        ctx.status = 204;
      } else {
        ctx.type = 'application/json';
        ctx.body = JSON.stringify(rules);
      }
      return;
    }
    const matching = rules.filter((r) => ctx.path.startsWith(r.prefix) &&
                                         (!r.method || r.method === ctx.method) &&
                                         (!r.query || r.query in ctx.query));
    if (matching.length === 0) return next();
    const rule = matching.find((r) => r.failed < r.count) || matching[0];
    rule.seen++;
    if (rule.failed >= rule.count) return next();
    rule.failed++;
    if (rule.mode === 'after') await next();
    const code = {429: 'TooManyRequests', 500: 'InternalError', 503: 'SlowDown'}[rule.status] ||
                 'ServiceUnavailable';
    ctx.status = rule.status;
    ctx.type = 'application/xml';
    if (rule.retryAfter) ctx.set('Retry-After', rule.retryAfter);
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>' + code +
               '</Code><Message>failure injected by the test</Message></Error>';
  };
}

// s3rver keeps an upload in progress as <data>/<bucket>/._S3rver_uploads/<upload id>/ (with a
// file "key" naming its object), but answers ListMultipartUploads (GET /bucket?uploads) with 501
// and AbortMultipartUpload (DELETE /bucket/key?uploadId=) with 405. This middleware lets s3rver
// check the request's signature first and then answers those two calls itself, from that
// directory, as S3 does: the listing (one page, keys under `prefix`, by key then id; an
// upload's start time is the modification time of its "key" file, which tests may move back
// with utimes), and the abort (the directory removed, 204; 404 NoSuchUpload when absent). It is
// off until a test turns it on with PUT /_aqueducts_test/uploads-api (other tests check how
// s3rver's own refusal is handled).
function pendingUploads() {
  const fs = require('fs');
  const path = require('path');
  let enabled = false;
  return async (ctx, next) => {
    if (ctx.path === '/_aqueducts_test/uploads-api' && ctx.method === 'PUT') {
      enabled = true;
      ctx.status = 204;
      return;
    }
    let failure = null;
    try {
      await next();
    } catch (e) {
      failure = e;  // s3rver throws its refusals (S3Error with a status)
    }
    const status = failure ? failure.status || 500 : ctx.status;
    const parts = ctx.path.split('/');
    const bucket = decodeURIComponent(parts[1] || '');
    const root = path.join(dir, bucket, '._S3rver_uploads');
    if (!enabled) {
      if (failure) throw failure;
      return;
    }
    if (ctx.method === 'GET' && parts.length === 2 && 'uploads' in ctx.query && status === 501) {
      const prefix = ctx.query.prefix || '';
      const uploads = [];
      for (const id of fs.existsSync(root) ? fs.readdirSync(root) : []) {
        const keyFile = path.join(root, id, 'key');
        if (!fs.existsSync(keyFile)) continue;
        const key = fs.readFileSync(keyFile, 'utf8');
        if (key.startsWith(prefix)) uploads.push({key, id, initiated: fs.statSync(keyFile).mtime});
      }
      uploads.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1);
      const esc = (t) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      ctx.status = 200;
      ctx.type = 'application/xml';
      ctx.body = '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult>' +
                 '<Bucket>' + esc(bucket) + '</Bucket><Prefix>' + esc(prefix) + '</Prefix>' +
                 '<IsTruncated>false</IsTruncated>' +
                 uploads.map((u) => '<Upload><Key>' + esc(u.key) + '</Key><UploadId>' + u.id +
                                    '</UploadId><Initiated>' + u.initiated.toISOString() +
                                    '</Initiated></Upload>').join('') +
                 '</ListMultipartUploadsResult>';
    } else if (ctx.method === 'DELETE' && 'uploadId' in ctx.query && status === 405) {
      const id = String(ctx.query.uploadId);
      const upload = path.join(root, id);
      ctx.type = 'application/xml';
      if (/^[0-9a-f]+$/.test(id) && fs.existsSync(upload)) {
        fs.rmSync(upload, {recursive: true, force: true});
        ctx.status = 204;
        ctx.body = null;
      } else {
        ctx.status = 404;
        ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code>' +
                   '<Message>The specified upload does not exist.</Message></Error>';
      }
    } else if (failure) {
      throw failure;
    }
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
