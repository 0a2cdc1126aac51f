/** Request parsing and tokenization through one worker thread, or inline (tests, tools). */
import { Worker } from 'node:worker_threads';
import { Cl100kTokenizer } from './tokenizer.js';
import { BadRequest, parseRequestBody, type ApiKind, type ParsedRequest } from './wire.js';

export interface PreparedRequest {
  req: ParsedRequest;
  ids: Uint32Array;
}

export interface RequestPreparer {
  /** Parse a request body and tokenize its prompt; throws BadRequest for a bad body. */
  prepare(kind: ApiKind, body: string): Promise<PreparedRequest>;
  encode(text: string): Promise<Uint32Array>;
  close(): Promise<void>;
}

type Reply = { ready?: boolean; id?: number; ids?: Uint32Array; req?: ParsedRequest; error?: string; badRequest?: boolean };

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

  private send(msg: object): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...msg });
    });
  }

  async prepare(kind: ApiKind, body: string): Promise<PreparedRequest> {
    const r = await this.send({ kind, body });
    return { req: r.req!, ids: r.ids! };
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
  async prepare(kind: ApiKind, body: string): Promise<PreparedRequest> {
    const req = parseRequestBody(kind, body);
    return { req, ids: req.ids ? Uint32Array.from(req.ids) : this.tok.encode(req.text!) };
  }
  async encode(text: string): Promise<Uint32Array> {
    return this.tok.encode(text);
  }
  async close(): Promise<void> {}
}
