/** Request parsing and tokenization through one worker thread, or inline (tests, tools). */
import { Worker } from 'node:worker_threads';
import { Cl100kTokenizer } from './tokenizer.js';
import { chainHashes } from './hash.js';
import { BadRequest, parseRequestBody, type ApiKind, type ParsedRequest } from './wire.js';

export interface PreparedRequest {
  req: ParsedRequest;
  ids: Uint32Array;
  /** Block chain hashes of the full blocks (empty when tokensPerBlock was 0). */
  hashes: Float64Array;
}

export interface RequestPreparer {
  /**
   * Parse a request body (UTF-8 bytes), tokenize its prompt and hash its full blocks of
   * `tokensPerBlock` (0: no hashes); throws BadRequest for a bad body.
   */
  prepare(kind: ApiKind, body: Uint8Array, tokensPerBlock: number): Promise<PreparedRequest>;
  encode(text: string): Promise<Uint32Array>;
  close(): Promise<void>;
}

type Reply = { ready?: boolean; id?: number; ids?: Uint32Array; hashes?: Float64Array; req?: ParsedRequest; error?: string; badRequest?: boolean };

export class WorkerPreparer implements RequestPreparer {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: Reply) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;

  constructor() {
    this.worker = new Worker(new URL('./tokenizer-worker.js', import.meta.url));
    let markReady!: () => void;
    this.ready = new Promise((r) => (markReady = r));
    this.worker.on('message', (m: Reply) => {
      if (m.ready) return markReady();
      const p = this.pending.get(m.id!);
      if (!p) return;
      this.pending.delete(m.id!);
      if (m.error !== undefined) p.reject(m.badRequest ? new BadRequest(m.error) : new Error(m.error));
      else p.resolve(m);
    });
    this.worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  private send(msg: object, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...msg }, transfer);
    });
  }

  async prepare(kind: ApiKind, body: Uint8Array, tokensPerBlock: number): Promise<PreparedRequest> {
    // Hand the bytes over without copying when they own their buffer (large bodies do).
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
    const bytes = owned ? body : body.slice();
    const r = await this.send({ kind, body: bytes, tokensPerBlock }, [bytes.buffer as ArrayBuffer]);
    return { req: r.req!, ids: r.ids!, hashes: r.hashes! };
  }

  async encode(text: string): Promise<Uint32Array> {
    return (await this.send({ text })).ids!;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

export class InlinePreparer implements RequestPreparer {
  private readonly tok = new Cl100kTokenizer();
  async prepare(kind: ApiKind, body: Uint8Array, tokensPerBlock: number): Promise<PreparedRequest> {
    const req = parseRequestBody(kind, new TextDecoder().decode(body));
    const ids = req.ids ? Uint32Array.from(req.ids) : this.tok.encode(req.text!);
    return { req, ids, hashes: Float64Array.from(tokensPerBlock ? chainHashes(ids, tokensPerBlock) : []) };
  }
  async encode(text: string): Promise<Uint32Array> {
    return this.tok.encode(text);
  }
  async close(): Promise<void> {}
}
