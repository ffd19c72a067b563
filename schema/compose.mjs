#!/usr/bin/env node
// Composes a federation v2 supergraph from subgraph SDL files with @theguild/federation-composition.
//
// Usage:
//   node schema/compose.mjs [--out FILE] NAME=URL=PATH.graphql [NAME=URL=PATH.graphql ...]
//   node schema/compose.mjs [--out FILE] --config subgraphs.json
//
//   NAME=URL=PATH  one subgraph: its name, the URL the gateway fetches from, and its SDL file
//                  (split at the first and the last '=', so URLs may contain '=').
//   --config FILE  a JSON list instead: [{ "name": "products", "url": "http://…", "path": "products.graphql" }]
//                  ("sdl": "<inline SDL>" may replace "path"; relative paths are relative to the JSON file).
//   --out FILE     where to write the supergraph SDL (default: stdout).
//
// Exit status: 0 on success; 1 on any composition error (each printed to stderr); 2 on bad usage.
// Needs `npm ci` in schema/ once (Node 20+).

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'graphql';
import { composeServices } from '@theguild/federation-composition';

function usage(message) {
  if (message) console.error(`compose: ${message}`);
  console.error('usage: node schema/compose.mjs [--out FILE] NAME=URL=PATH.graphql ... | --config subgraphs.json');
  process.exit(2);
}

function parseArgs(argv) {
  const subgraphs = [];
  let out = null;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--out' || arg === '-o') {
      out = argv[++i] ?? usage('--out needs a file');
    } else if (arg === '--config') {
      const file = argv[++i] ?? usage('--config needs a file');
      const list = JSON.parse(readFileSync(file, 'utf8'));
      if (!Array.isArray(list)) usage(`${file} must hold a JSON list`);
      for (const entry of list) {
        if (!entry.name || !entry.url || !(entry.path || entry.sdl)) {
          usage(`${file}: each entry needs name, url and path (or sdl)`);
        }
        const sdl = entry.sdl ?? readFileSync(resolve(dirname(file), entry.path), 'utf8');
        subgraphs.push({ name: entry.name, url: entry.url, sdl });
      }
    } else if (arg === '-h' || arg === '--help') {
      usage();
    } else {
      const first = arg.indexOf('=');
      const last = arg.lastIndexOf('=');
      if (first <= 0 || last === first) usage(`expected NAME=URL=PATH, got ${arg}`);
      const path = arg.slice(last + 1);
      subgraphs.push({ name: arg.slice(0, first), url: arg.slice(first + 1, last), sdl: readFileSync(path, 'utf8') });
    }
  }
  if (subgraphs.length === 0) usage('no subgraphs given');
  return { subgraphs, out };
}

const { subgraphs, out } = parseArgs(process.argv.slice(2));
let services;
try {
  services = subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) }));
} catch (error) {
  console.error(`compose: a subgraph SDL does not parse: ${error.message}`);
  process.exit(1);
}
const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  for (const error of result.errors) console.error(`composition error: ${error.message}`);
  process.exit(1);
}
const supergraph = `${result.supergraphSdl.trimEnd()}\n`;
if (out) writeFileSync(out, supergraph);
else process.stdout.write(supergraph);
