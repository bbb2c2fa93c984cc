// A Google Cloud Storage emulator for the tests, written for this repository: neither Debian nor
// npm packages one. It speaks the parts of GCS's XML API that src/storage/gcs_store.cc uses and
// checks authentication the way GCS does:
//   - POST /token is the OAuth 2.0 token endpoint. A service account's RS256-signed JWT
//     (grant_type urn:ietf:params:oauth:grant-type:jwt-bearer) is checked against the public
//     half of the key written to <dir>/service-account.json; an authorized user's refresh token
//     (grant_type refresh_token) against <dir>/authorized-user.json. Either gives an access token.
//   - every storage request needs "Authorization: Bearer <access token>" (401 otherwise).
//   - objects: HEAD, GET (with Range), PUT (x-goog-if-generation-match: 0 makes it create-only:
//     412 when the key exists; x-goog-copy-source: bucket/object copies that object), DELETE; XML multipart uploads (POST ?uploads, PUT ?partNumber=
//     &uploadId=, POST ?uploadId= with CompleteMultipartUpload, DELETE ?uploadId=; parts but the
//     last at least 5 MiB); listing with list-type=2, prefix, delimiter, max-keys and
//     continuation-token (1000 keys a page); listing the uploads in progress (GET /bucket?uploads
//     with prefix, key-marker and upload-id-marker, max-uploads a page, as ListMultipartUploads).
//   - POST /_emulator/age-uploads?seconds=N (tests only, no token needed) moves the start time of
//     every upload in progress N seconds back, so that tests can make uploads look abandoned.
// Objects live in memory. Buckets: "bucket" and "other". Also written to <dir>:
// wrong-service-account.json (same e-mail, another key: its JWTs are refused).
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const kMinPart = 5 * 1024 * 1024;
const kPage = 1000;
const kEmail = 'aqueducts-test@emulator.iam.gserviceaccount.com';

function xmlEscape(text) {
  return String(text).replace(/[<>&'"]/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;',
                                                    '\'': '&apos;', '"': '&quot;'}[c]));
}

function base64UrlDecode(text) {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function sendXml(res, status, body, headers = {}) {
  const data = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>' + body, 'utf8');
  res.writeHead(status, Object.assign({'Content-Type': 'application/xml',
                                       'Content-Length': data.length}, headers));
  res.end(data);
}

function sendError(res, status, code, message) {
  sendXml(res, status, '<Error><Code>' + code + '</Code><Message>' + xmlEscape(message) +
                           '</Message></Error>');
}

function sendJson(res, status, value) {
  const data = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': data.length});
  res.end(data);
}

function start(dir) {
  const key = crypto.generateKeyPairSync('rsa', {modulusLength: 2048});
  const wrongKey = crypto.generateKeyPairSync('rsa', {modulusLength: 2048});
  const refreshToken = crypto.randomBytes(16).toString('hex');
  const buckets = new Map([['bucket', new Map()], ['other', new Map()]]);
  const uploads = new Map();  // upload id -> {bucket, key, parts: Map(number -> Buffer)}
  const tokens = new Map();   // access token -> expiry (ms)
  let generation = 1000;
  let port = 0;

  const tokenUri = () => 'http://127.0.0.1:' + port + '/token';

  // An RS256 JWT assertion of the service account; an error text when it is not acceptable.
  function checkAssertion(assertion) {
    const parts = String(assertion || '').split('.');
    if (parts.length !== 3) return 'malformed JWT';
    let header;
    let claims;
    try {
      header = JSON.parse(base64UrlDecode(parts[0]).toString('utf8'));
      claims = JSON.parse(base64UrlDecode(parts[1]).toString('utf8'));
    } catch (e) {
      return 'malformed JWT';
    }
    if (header.alg !== 'RS256') return 'JWT alg must be RS256';
    const signed = Buffer.from(parts[0] + '.' + parts[1], 'utf8');
    if (!crypto.verify('RSA-SHA256', signed, key.publicKey, base64UrlDecode(parts[2]))) {
      return 'Invalid JWT Signature.';
    }
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== kEmail) return 'unknown issuer';
    if (claims.aud !== tokenUri()) return 'JWT audience must be the token URI';
    if (!String(claims.scope || '').includes('devstorage')) return 'no storage scope';
    if (!(claims.iat <= now + 60) || !(claims.exp > now) || claims.exp - claims.iat > 3600) {
      return 'Invalid JWT: token must be a short-lived token (60 minutes)';
    }
    return null;
  }

  function issueToken(res) {
    const token = 'ya29.' + crypto.randomBytes(24).toString('hex');
    tokens.set(token, Date.now() + 3600 * 1000);
    sendJson(res, 200, {access_token: token, expires_in: 3599, token_type: 'Bearer'});
  }

  function handleToken(res, body) {
    const form = new URLSearchParams(body.toString('utf8'));
    const grant = form.get('grant_type');
    if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const problem = checkAssertion(form.get('assertion'));
      if (problem) return sendJson(res, 400, {error: 'invalid_grant', error_description: problem});
      return issueToken(res);
    }
    if (grant === 'refresh_token') {
      if (form.get('refresh_token') !== refreshToken || form.get('client_id') !== 'test-client' ||
          form.get('client_secret') !== 'test-client-secret') {
        return sendJson(res, 400, {error: 'invalid_grant', error_description: 'Bad Request'});
      }
      return issueToken(res);
    }
    sendJson(res, 400, {error: 'unsupported_grant_type'});
  }

  function authorized(req) {
    const match = /^Bearer (.+)$/.exec(req.headers['authorization'] || '');
    const expiry = match && tokens.get(match[1]);
    return Boolean(expiry && expiry > Date.now());
  }

  function objectHeaders(object) {
    return {'ETag': '"' + object.etag + '"', 'Last-Modified': object.modified.toUTCString(),
            'x-goog-generation': String(object.generation)};
  }

  function store(objects, name, data) {
    const object = {data, etag: crypto.createHash('md5').update(data).digest('hex'),
                    modified: new Date(), generation: ++generation};
    objects.set(name, object);
    return object;
  }

  function list(res, bucketName, objects, query) {
    const prefix = query.get('prefix') || '';
    const delimiter = query.get('delimiter') || '';
    const maxKeys = Math.min(Number(query.get('max-keys') || kPage), kPage);
    const after = query.get('continuation-token') ?
        Buffer.from(query.get('continuation-token'), 'base64').toString('utf8') : '';
    const entries = [];  // sorted keys and rolled-up prefixes, each once
    const seen = new Set();
    for (const name of [...objects.keys()].sort()) {
      if (!name.startsWith(prefix)) continue;
      const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const rolled = name.slice(0, cut + delimiter.length);
        if (!seen.has(rolled)) {
          seen.add(rolled);
          entries.push({prefix: rolled});
        }
      } else {
        entries.push({key: name});
      }
    }
    const start = after ? entries.findIndex((e) => (e.key || e.prefix) > after) : 0;
    const page = start < 0 ? [] : entries.slice(start, start + maxKeys);
    const truncated = start >= 0 && start + maxKeys < entries.length;
    let body = '<ListBucketResult xmlns="http://doc.s3.amazonaws.com/2006-03-01"><Name>' +
               xmlEscape(bucketName) + '</Name><Prefix>' + xmlEscape(prefix) + '</Prefix>' +
               '<KeyCount>' + page.length + '</KeyCount><MaxKeys>' + maxKeys + '</MaxKeys>' +
               '<IsTruncated>' + truncated + '</IsTruncated>';
    if (truncated) {
      const last = page[page.length - 1];
      body += '<NextContinuationToken>' +
              Buffer.from(last.key || last.prefix, 'utf8').toString('base64') +
              '</NextContinuationToken>';
    }
    for (const entry of page) {
      if (entry.key) {
        const object = objects.get(entry.key);
        body += '<Contents><Key>' + xmlEscape(entry.key) + '</Key><Generation>' +
                object.generation + '</Generation><LastModified>' +
                object.modified.toISOString() + '</LastModified><ETag>"' + object.etag +
                '"</ETag><Size>' + object.data.length + '</Size></Contents>';
      }
    }
    for (const entry of page) {
      if (entry.prefix) {
        body += '<CommonPrefixes><Prefix>' + xmlEscape(entry.prefix) + '</Prefix></CommonPrefixes>';
      }
    }
    sendXml(res, 200, body + '</ListBucketResult>');
  }

  // ListMultipartUploads: the uploads in progress of keys under `prefix`, by key then id.
  function listUploads(res, bucketName, query) {
    const prefix = query.get('prefix') || '';
    const keyMarker = query.get('key-marker') || '';
    const idMarker = query.get('upload-id-marker') || '';
    const maxUploads = Math.min(Number(query.get('max-uploads') || kPage), kPage);
    const all = [...uploads.values()]
        .filter((u) => u.bucket === bucketName && u.key.startsWith(prefix))
        .filter((u) => !keyMarker || u.key > keyMarker || (u.key === keyMarker && u.id > idMarker))
        .sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1);
    const page = all.slice(0, maxUploads);
    const truncated = all.length > page.length;
    let body = '<ListMultipartUploadsResult><Bucket>' + xmlEscape(bucketName) + '</Bucket>' +
               '<Prefix>' + xmlEscape(prefix) + '</Prefix><MaxUploads>' + maxUploads +
               '</MaxUploads><IsTruncated>' + truncated + '</IsTruncated>';
    if (truncated) {
      const last = page[page.length - 1];
      body += '<NextKeyMarker>' + xmlEscape(last.key) + '</NextKeyMarker><NextUploadIdMarker>' +
              last.id + '</NextUploadIdMarker>';
    }
    for (const u of page) {
      body += '<Upload><Key>' + xmlEscape(u.key) + '</Key><UploadId>' + u.id + '</UploadId>' +
              '<Initiated>' + u.initiated.toISOString() + '</Initiated></Upload>';
    }
    sendXml(res, 200, body + '</ListMultipartUploadsResult>');
  }

  function completeUpload(res, upload, objects, body) {
    const wanted = [...body.toString('utf8').matchAll(
        /<PartNumber>\s*(\d+)\s*<\/PartNumber>\s*<ETag>([^<]*)<\/ETag>/g)];
    if (wanted.length === 0) return sendError(res, 400, 'MalformedXML', 'no parts listed');
    const pieces = [];
    for (let i = 0; i < wanted.length; ++i) {
      const part = upload.parts.get(Number(wanted[i][1]));
      const etag = wanted[i][2].replace(/&quot;/g, '"').replace(/"/g, '');
      if (!part || part.etag !== etag) return sendError(res, 400, 'InvalidPart', 'part missing');
      if (i + 1 < wanted.length && part.data.length < kMinPart) {
        return sendError(res, 400, 'EntityTooSmall', 'a part but the last is under 5 MiB');
      }
      pieces.push(part.data);
    }
    const object = store(objects, upload.key, Buffer.concat(pieces));
    uploads.delete(upload.id);
    sendXml(res, 200, '<CompleteMultipartUploadResult><Key>' + xmlEscape(upload.key) +
                          '</Key><ETag>"' + object.etag + '"</ETag></CompleteMultipartUploadResult>');
  }

  function handleObject(req, res, bucketName, objects, name, query, body) {
    const uploadId = query.get('uploadId');
    if (req.method === 'POST' && query.has('uploads')) {
      const id = crypto.randomBytes(12).toString('hex');
      uploads.set(id, {id, bucket: bucketName, key: name, parts: new Map(), initiated: new Date()});
      return sendXml(res, 200, '<InitiateMultipartUploadResult><Bucket>' + xmlEscape(bucketName) +
                                   '</Bucket><Key>' + xmlEscape(name) + '</Key><UploadId>' + id +
                                   '</UploadId></InitiateMultipartUploadResult>');
    }
    if (uploadId !== null) {
      const upload = uploads.get(uploadId);
      if (!upload || upload.key !== name || upload.bucket !== bucketName) {
        return sendError(res, 404, 'NoSuchUpload', 'no such upload');
      }
      if (req.method === 'PUT') {
        const etag = crypto.createHash('md5').update(body).digest('hex');
        upload.parts.set(Number(query.get('partNumber')), {data: body, etag});
        res.writeHead(200, {'ETag': '"' + etag + '"', 'Content-Length': 0});
        return res.end();
      }
      if (req.method === 'POST') return completeUpload(res, upload, objects, body);
      if (req.method === 'DELETE') {
        uploads.delete(uploadId);
        res.writeHead(204);
        return res.end();
      }
      return sendError(res, 405, 'MethodNotAllowed', req.method);
    }
    const object = objects.get(name);
    if (req.method === 'PUT') {
      if (req.headers['x-goog-if-generation-match'] === '0' && object) {
        return sendError(res, 412, 'PreconditionFailed',
                         'At least one of the pre-conditions you specified did not hold.');
      }
      const copySource = req.headers['x-goog-copy-source'];
      if (copySource !== undefined) {
        const source = copySource.replace(/^\//, '');
        const cut = source.indexOf('/');
        const from = cut < 0 ? undefined : buckets.get(decodeURIComponent(source.slice(0, cut)));
        const original = from && from.get(decodeURIComponent(source.slice(cut + 1)));
        if (!original) return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        const copied = store(objects, name, original.data);
        return sendXml(res, 200, '<CopyObjectResult><LastModified>' +
                                     copied.modified.toISOString() +
                                     '</LastModified><ETag>"' + copied.etag +
                                     '"</ETag></CopyObjectResult>');
      }
      const stored = store(objects, name, body);
      res.writeHead(200, Object.assign({'Content-Length': 0}, objectHeaders(stored)));
      return res.end();
    }
    if (req.method === 'DELETE') {
      if (!object) return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
      objects.delete(name);
      res.writeHead(204);
      return res.end();
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, 405, 'MethodNotAllowed', req.method);
    }
    if (!object) {
      if (req.method === 'HEAD') {
        res.writeHead(404);
        return res.end();
      }
      return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    }
    const headers = objectHeaders(object);
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers['range'] || '');
    if (range && req.method === 'GET') {
      const first = Number(range[1]);
      if (first >= object.data.length) {
        return sendError(res, 416, 'InvalidRange', 'The requested range cannot be satisfied.');
      }
      const last = Math.min(range[2] === '' ? object.data.length - 1 : Number(range[2]),
                            object.data.length - 1);
      const slice = object.data.subarray(first, last + 1);
      res.writeHead(206, Object.assign(headers, {
        'Content-Length': slice.length,
        'Content-Range': 'bytes ' + first + '-' + last + '/' + object.data.length,
      }));
      return res.end(slice);
    }
    res.writeHead(200, Object.assign(headers, {'Content-Length': object.data.length}));
    res.end(req.method === 'HEAD' ? undefined : object.data);
  }

  function handle(req, res, body) {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/token' && req.method === 'POST') return handleToken(res, body);
    if (url.pathname === '/_emulator/age-uploads' && req.method === 'POST') {
      const seconds = Number(url.searchParams.get('seconds') || 0);
      for (const upload of uploads.values()) {
        upload.initiated = new Date(upload.initiated.getTime() - seconds * 1000);
      }
      res.writeHead(204);
      return res.end();
    }
    if (!authorized(req)) {
      return sendError(res, 401, 'AuthenticationRequired',
                       'Anonymous caller does not have storage.objects access.');
    }
    const path = url.pathname.slice(1);
    const slash = path.indexOf('/');
    const bucketName = decodeURIComponent(slash < 0 ? path : path.slice(0, slash));
    const objects = buckets.get(bucketName);
    if (!objects) return sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist.');
    const name = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
    if (name === '') {
      if (req.method === 'GET' && url.searchParams.has('uploads')) {
        return listUploads(res, bucketName, url.searchParams);
      }
      if (req.method === 'GET') return list(res, bucketName, objects, url.searchParams);
      return sendError(res, 405, 'MethodNotAllowed', req.method);
    }
    handleObject(req, res, bucketName, objects, name, url.searchParams, body);
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (e) {
        sendError(res, 500, 'InternalError', String(e && e.stack || e));
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      port = server.address().port;
      const account = (privateKey) => ({
        type: 'service_account', project_id: 'aqueducts-test', private_key_id: 'test-key-1',
        private_key: privateKey.export({type: 'pkcs8', format: 'pem'}), client_email: kEmail,
        client_id: '1', token_uri: tokenUri(),
      });
      fs.writeFileSync(dir + '/service-account.json', JSON.stringify(account(key.privateKey)));
      fs.writeFileSync(dir + '/wrong-service-account.json',
                       JSON.stringify(account(wrongKey.privateKey)));
      fs.writeFileSync(dir + '/authorized-user.json', JSON.stringify({
        type: 'authorized_user', client_id: 'test-client', client_secret: 'test-client-secret',
        refresh_token: refreshToken, token_uri: tokenUri(),
      }));
      resolve(port);
    });
  });
}

module.exports = {start};
