// Checks HTTP exchanges recorded against a running aqueducts-server (src/server/openapi_test.cc)
// against the OpenAPI 3.1 document docs/openapi.json, with ajv (JSON Schema 2020-12, formats on).
//
// For every exchange: its path and method are an operation of the document; its status is one of
// that operation's responses; its content type is the one the response declares (none for a
// response without content); a JSON body validates against the response's schema; the request
// body of an exchange answered 2xx validates against the operation's request body schema.
// Then: every operation of the document was answered 2xx at least once (nothing documented is
// left untested). Every failure is printed; the exit code is 1 when there is any.
//
// Usage: node check_openapi.js <openapi.json> <exchanges.json>
//   exchanges.json: [{"method": "GET", "path": "/api/v1/runs/3", "status": 200,
//                     "content_type": "application/json", "body": "...",
//                     "request_body": "..."}, ...]
'use strict';
const fs = require('fs');
let Ajv2020;
try {
  Ajv2020 = require('ajv/dist/2020');
} catch (e) {
  console.error('ajv is not installed in tests/js: run tools/setup.sh (npm ci in tests/js)');
  process.exit(1);
}
const addFormats = require('ajv-formats');

const [docPath, exchangesPath] = process.argv.slice(2);
if (!docPath || !exchangesPath) {
  console.error('usage: node check_openapi.js <openapi.json> <exchanges.json>');
  process.exit(2);
}
const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
const exchanges = JSON.parse(fs.readFileSync(exchangesPath, 'utf8'));
const failures = [];
const fail = (msg) => failures.push(msg);

if (!/^3\.1\./.test(doc.openapi || '')) fail(`openapi: expected 3.1.x, got ${doc.openapi}`);

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(doc, 'openapi.json');
const compiled = new Map();
// A validator for `schema` as it sits in the document: local $refs resolve against the document.
function validatorFor(schema) {
  const key = JSON.stringify(schema);
  if (!compiled.has(key)) {
    const rewritten = JSON.parse(key.replace(/"#\/components\//g, '"openapi.json#/components/'));
    compiled.set(key, ajv.compile(rewritten));
  }
  return compiled.get(key);
}
function resolve(obj) {
  while (obj && obj.$ref) {
    const parts = obj.$ref.replace(/^#\//, '').split('/');
    obj = parts.reduce((o, p) => (o ? o[p] : undefined), doc);
  }
  return obj;
}

// The validator must refuse what the document does not allow; otherwise nothing below means
// anything.
{
  const runSchema = { $ref: '#/components/schemas/Run' };
  if (validatorFor(runSchema)({ id: 1, state: 'exploded' })) {
    fail('self-check: the validator accepted a run the document does not allow');
  }
}

// Path templates: literal segments win over {parameters} (/tokens/current before /tokens/{x}).
const templates = Object.keys(doc.paths).map((p) => {
  const segments = p.split('/');
  return {
    path: p,
    regex: new RegExp('^' + segments.map((s) => (/^\{.+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$'),
    literals: segments.filter((s) => !/^\{.+\}$/.test(s)).length,
  };
}).sort((a, b) => b.literals - a.literals);
function templateOf(path) {
  const t = templates.find((t) => t.regex.test(path));
  return t ? t.path : null;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const answered2xx = new Set();
for (const [i, x] of exchanges.entries()) {
  const where = `#${i} ${x.method} ${x.path} -> ${x.status}`;
  const template = templateOf(x.path);
  if (!template) {
    fail(`${where}: no path of the document matches ${x.path}`);
    continue;
  }
  const op = doc.paths[template][x.method.toLowerCase()];
  if (!op) {
    fail(`${where}: ${template} has no operation ${x.method}`);
    continue;
  }
  const opName = `${x.method} ${template}`;
  const response = resolve(op.responses[String(x.status)]);
  if (!response) {
    fail(`${where}: status ${x.status} is not among the documented responses of ${opName} (${Object.keys(op.responses).join(', ')})`);
    continue;
  }
  if (x.status >= 200 && x.status < 300) answered2xx.add(opName);
  const mediaType = (x.content_type || '').split(';')[0].trim();
  const content = response.content || {};
  if (Object.keys(content).length === 0) {
    if (x.body) fail(`${where}: the document declares no content, the server sent ${mediaType}: ${x.body.slice(0, 200)}`);
  } else if (!content[mediaType]) {
    fail(`${where}: content type '${mediaType}' is not documented (${Object.keys(content).join(', ')})`);
  } else if (mediaType === 'application/json') {
    let body;
    try {
      body = JSON.parse(x.body);
    } catch (e) {
      fail(`${where}: the body is not JSON: ${x.body.slice(0, 200)}`);
      continue;
    }
    const validate = validatorFor(content[mediaType].schema);
    if (!validate(body)) {
      fail(`${where}: the answer does not match the document: ${ajv.errorsText(validate.errors)}\n    body: ${x.body.slice(0, 400)}`);
    }
  }
  for (const [name, header] of Object.entries(response.headers || {})) {
    if (!(x.headers || {})[name.toLowerCase()]) fail(`${where}: header ${name} is documented but missing`);
    else if (header.schema && header.schema.type === 'integer' && !/^\d+$/.test(x.headers[name.toLowerCase()])) {
      fail(`${where}: header ${name} is not an integer: ${x.headers[name.toLowerCase()]}`);
    }
  }
  if (x.status >= 200 && x.status < 300) {
    const requestBody = resolve(op.requestBody);
    const sent = x.request_body || '';
    if (!requestBody && sent) fail(`${where}: a body was accepted but the document declares none`);
    if (requestBody && !sent && requestBody.required) fail(`${where}: accepted without the body the document requires`);
    if (requestBody && sent) {
      const validate = validatorFor(requestBody.content['application/json'].schema);
      if (!validate(JSON.parse(sent))) {
        fail(`${where}: an accepted request body does not match the document: ${ajv.errorsText(validate.errors)}\n    body: ${sent.slice(0, 400)}`);
      }
    }
  }
}
for (const [path, item] of Object.entries(doc.paths)) {
  for (const method of METHODS) {
    if (item[method] && !answered2xx.has(`${method.toUpperCase()} ${path}`)) {
      fail(`${method.toUpperCase()} ${path}: documented but never answered 2xx in the exchanges`);
    }
  }
}
for (const f of failures) console.error('FAIL ' + f);
console.log(`${exchanges.length} exchanges, ${answered2xx.size} operations answered 2xx, ${failures.length} failures`);
process.exit(failures.length ? 1 : 0);
