// Signs and verifies credentials with Digital Bazaar's JavaScript stack, for tests/interop.
//   node interop.mjs sign    REQUEST.json   -> the signed credential
//   node interop.mjs verify  REQUEST.json   -> {"verified": bool, "error": "..."}
//   node interop.mjs bench   REQUEST.json N -> {"per_second": signed credentials per second}
// REQUEST.json: {credential, contexts: {url: file}, documents: {url: document},
//                key: {id, controller, publicKeyMultibase, secretKeyMultibase}, created}
// Every document comes from the request: nothing is fetched.
import {readFileSync} from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import multikeyContext from '@digitalbazaar/multikey-context';

const [command, requestFile] = process.argv.slice(2);
const request = JSON.parse(readFileSync(requestFile, 'utf8'));
const documents = new Map(Object.entries(request.documents || {}));
for(const [url, file] of Object.entries(request.contexts)) {
  documents.set(url, JSON.parse(readFileSync(file, 'utf8')));
}
documents.set(multikeyContext.CONTEXT_URL, multikeyContext.CONTEXT);

async function documentLoader(url) {
  const document = documents.get(url);
  if(!document) {
    throw new Error(`document ${url} is not in the request; refusing to fetch it`);
  }
  return {contextUrl: null, documentUrl: url, document};
}

if(command === 'sign') {
  const key = await Ed25519Multikey.from(request.key);
  const suite = new DataIntegrityProof({
    signer: key.signer(), date: request.created, cryptosuite
  });
  const signed = await vc.issue({credential: request.credential, suite, documentLoader});
  process.stdout.write(JSON.stringify(signed));
} else if(command === 'bench') {
  const count = Number(process.argv[4] || 500);
  const key = await Ed25519Multikey.from(request.key);
  const sign = async n => vc.issue({
    credential: {...request.credential, id: `urn:uuid:bench-${n}`},
    suite: new DataIntegrityProof({signer: key.signer(), date: request.created, cryptosuite}),
    documentLoader
  });
  await sign(-1);
  const started = performance.now();
  for(let n = 0; n < count; n++) {
    await sign(n);
  }
  process.stdout.write(JSON.stringify({per_second: count / ((performance.now() - started) / 1000)}));
} else if(command === 'verify') {
  const suite = new DataIntegrityProof({cryptosuite});
  const result = await vc.verifyCredential({
    credential: request.credential, suite, documentLoader,
    // status lists are Cairn's own check; this is about the proof
    checkStatus: async () => ({verified: true})
  });
  const error = result.error ? String(result.error.errors?.[0]?.message ?? result.error.message ?? result.error) : '';
  process.stdout.write(JSON.stringify({verified: result.verified, error}));
} else {
  console.error('usage: node interop.mjs sign|verify REQUEST.json');
  process.exit(2);
}
