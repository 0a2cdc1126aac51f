/**
 * Worker thread: parses request bodies and tokenizes prompts off the server's event loop
 * (JSON.parse and tokenization of a 128K-token prompt take tens of ms; see tokenizer.ts).
 */
import { parentPort } from 'node:worker_threads';
import { Cl100kTokenizer } from './tokenizer.js';
import { BadRequest, parseRequestBody, type ApiKind } from './wire.js';
import { chainHashes } from './hash.js';

const tok = new Cl100kTokenizer();
const utf8 = new TextDecoder();
parentPort!.on('message', (msg: { id: number; kind?: ApiKind; body?: Uint8Array; text?: string; tokensPerBlock?: number }) => {
  try {
    if (msg.kind) {
      const req = parseRequestBody(msg.kind, utf8.decode(msg.body!));
      const ids = req.ids ? Uint32Array.from(req.ids) : tok.encode(req.text!);
      const hashes = Float64Array.from(msg.tokensPerBlock ? chainHashes(ids, msg.tokensPerBlock) : []);
      parentPort!.postMessage({ id: msg.id, ids, hashes, req: { ...req, text: null, ids: null } }, [ids.buffer as ArrayBuffer, hashes.buffer]);
    } else {
      const ids = tok.encode(msg.text!);
      parentPort!.postMessage({ id: msg.id, ids }, [ids.buffer as ArrayBuffer]);
    }
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: (err as Error).message, badRequest: err instanceof BadRequest });
  }
});
parentPort!.postMessage({ ready: true });
