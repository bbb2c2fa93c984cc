// Validates pipeline documents against the JSON Schema printed by `aqueducts schema`, with ajv
// (a standard draft-07 validator, formats on). Every document given must be accepted: the
// original's example and integration-test pipelines, and the documents below, in the original's
// format. (The original's own schema, under a validator that checks `format: uri`, rejects its
// examples: their locations are relative paths and ${...} templates.)
//
// Usage: node check_schema.js <aqueducts binary> <pipeline file or directory>...
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
let Ajv;
try {
  Ajv = require('ajv');
} catch (e) {
  console.error('ajv is not installed in tests/js: run tools/setup.sh (npm ci in tests/js)');
  process.exit(1);
}
const addFormats = require('ajv-formats');
const YAML = require('yaml');
const TOML = require('smol-toml');

const [binary, ...inputs] = process.argv.slice(2);
if (!binary || inputs.length === 0) {
  console.error('usage: node check_schema.js <aqueducts binary> <file or directory>...');
  process.exit(2);
}

const schema = JSON.parse(execFileSync(binary, ['schema'], { encoding: 'utf8' }));
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(schema);

function parse(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) return JSON.parse(text);
  if (file.endsWith('.toml')) return TOML.parse(text);
  return YAML.parse(text);
}

const documents = [];
for (const input of inputs) {
  const stat = fs.statSync(input);
  const files = stat.isDirectory()
    ? fs.readdirSync(input).map((f) => path.join(input, f))
    : [input];
  for (const file of files.sort()) {
    if (/\.(ya?ml|json|toml)$/.test(file)) documents.push([file, parse(file)]);
  }
}

// Documents in the original's format, written from its schema and loader: minimal forms (every
// default left out), URL locations, and each optional key it declares.
const source = (extra) => Object.assign(
  { type: 'file', name: 's', format: { type: 'csv', options: {} }, location: 'file:///tmp/s.csv' },
  extra);
const inline = {
  minimal: { sources: [], stages: [] },
  'null destination': { version: 'v2', sources: [], stages: [[]], destination: null },
  'stage options': {
    sources: [source({})],
    stages: [[{ name: 'a', query: 'SELECT 1', show: 0, explain: true, explain_analyze: false,
      print_schema: true }, { name: 'b', query: 'SELECT 2', show: null }]],
  },
  'object store URL and storage_config': {
    sources: [source({ location: 's3://bucket/key.csv', storage_config: { aws_region: 'eu' } })],
    stages: [],
  },
  'csv and json source options': {
    sources: [source({ format: { type: 'csv', options: { has_header: false, delimiter: ';' } } }),
      source({ name: 'j', format: { type: 'json', options: { schema: [
        { name: 'a', data_type: 'int64', nullable: false, description: 'an id' },
        { name: 'b', data_type: 'list<string>' }] } } }),
      source({ name: 'p', format: { type: 'parquet', options: { schema: [] } } })],
    stages: [],
  },
  'directory source': {
    sources: [{ type: 'directory', name: 'd', format: { type: 'parquet', options: {} },
      location: 'file:///tmp/d/', partition_columns: [['year', 'int32']] }],
    stages: [],
  },
  'delta source at a version': {
    sources: [{ type: 'delta', name: 'd', location: 'file:///tmp/t', version: 3 }], stages: [],
  },
  'delta source at a time': {
    sources: [{ type: 'delta', name: 'd', location: 'file:///tmp/t', timestamp: '2024-01-01T00:00:00Z' }],
    stages: [],
  },
  'odbc source': {
    sources: [{ type: 'odbc', name: 'o', connection_string: 'Driver={X}', load_query: 'SELECT 1' }],
    stages: [],
  },
  'in-memory source and destination': {
    sources: [{ type: 'in_memory', name: 'm' }], stages: [],
    destination: { type: 'in_memory', name: 'out' },
  },
  'parquet destination options': {
    sources: [], stages: [],
    destination: { type: 'file', name: 'f', location: 'file:///tmp/out.parquet',
      format: { type: 'parquet', options: { compression: 'zstd(3)', max_row_group_size: '1000' } },
      single_file: true, partition_columns: ['a'], storage_config: {} },
  },
  'csv destination options': {
    sources: [], stages: [],
    destination: { type: 'file', name: 'f', location: 'file:///tmp/out.csv',
      format: { type: 'csv', options: { has_header: true, delimiter: ',', compression: 'gzip' } } },
  },
  'delta destination': {
    sources: [], stages: [],
    destination: { type: 'delta', name: 'd', location: 'file:///tmp/t',
      write_mode: { operation: 'replace', params: [{ column: 'date', value: '2024-01-01' }] },
      partition_columns: [], table_properties: { 'delta.appendOnly': 'false' },
      metadata: { owner: 'me' }, schema: [{ name: 'date', data_type: 'date32' }],
      storage_config: {} },
  },
  'odbc destination': {
    sources: [], stages: [],
    destination: { type: 'odbc', name: 't', connection_string: 'Driver={X}', batch_size: 100,
      write_mode: { operation: 'custom', transaction: { pre_insert: null,
        insert: 'INSERT INTO t VALUES (?)' } } },
  },
};
for (const [name, doc] of Object.entries(inline)) documents.push([`(inline) ${name}`, doc]);

let failures = 0;
for (const [name, doc] of documents) {
  if (validate(doc)) {
    console.log(`ok       ${name}`);
  } else {
    failures++;
    console.log(`REJECTED ${name}`);
    for (const e of validate.errors.slice(0, 5)) {
      console.log(`         ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
}
// The validator is live: documents the format forbids are rejected.
const forbidden = {
  'stages missing': { sources: [] },
  'unknown source type': { sources: [{ type: 'excel', name: 'x' }], stages: [] },
  'stage without query': { sources: [], stages: [[{ name: 'a' }]] },
};
for (const [name, doc] of Object.entries(forbidden)) {
  if (validate(doc)) {
    failures++;
    console.log(`ACCEPTED (inline, must be rejected) ${name}`);
  } else {
    console.log(`rejected (inline, as it must be) ${name}`);
  }
}
console.log(`${documents.length} documents, ${failures} wrong answers`);
process.exit(failures === 0 && documents.length > 0 ? 0 : 1);
