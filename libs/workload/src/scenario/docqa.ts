import seedrandom from 'seedrandom';
import { DocqaParams, parseOrThrow, ValidationError, type ScenarioWorkload } from '@kvbench/common';
import { arrivalTimesMs } from './arrivals.js';
import { ScenarioBuilder } from './builder.js';

export type DocqaInput = Omit<Partial<DocqaParams>, 'kind'> & Pick<DocqaParams, 'documents' | 'document_tokens' | 'question_tokens'>;

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/**
 * Shared documents (after LMCache's long-doc-qa): every request is one document followed by a
 * question of its own. Each round asks `questions` questions about every document, in `order`:
 * `tile` walks the whole list before repeating (LRU's worst case once the documents outgrow the
 * cache), `interleave` asks a document's questions back to back (its best), `random` shuffles
 * (seeded, per round). Round 1 is the warm-up: first sight of each document. Arrivals: `closed`
 * (max_concurrency users back to back, default 1) or open-loop `poisson` / `gamma` at `rate`.
 */
export function generateDocqa(input: DocqaInput): ScenarioWorkload {
  const p = parseOrThrow(DocqaParams, { ...input, kind: 'docqa' }, 'docqa parameters');
  if (p.token_high <= p.token_low) throw new ValidationError('token_high: must be above token_low', 'token_high');
  if (p.arrival !== 'closed' && p.rate === undefined) throw new ValidationError(`rate: required for arrival '${p.arrival}'`, 'rate');
  const b = new ScenarioBuilder({
    kind: 'docqa',
    params: p as unknown as Record<string, unknown>,
    max_concurrency: p.max_concurrency ?? null,
    token_space: { seed: p.seed, low: p.token_low, high: p.token_high },
  });
  const wd = String(p.documents - 1).length;
  const docs = Array.from({ length: p.documents }, (_, d) => b.segment(`doc${pad(d, wd)}`, p.document_tokens));
  const order: Array<[number, number, number]> = [];
  for (let r = 1; r <= p.rounds; r++) {
    const round: Array<[number, number, number]> = [];
    if (p.order === 'interleave') for (let d = 0; d < p.documents; d++) for (let q = 0; q < p.questions; q++) round.push([r, d, q]);
    else for (let q = 0; q < p.questions; q++) for (let d = 0; d < p.documents; d++) round.push([r, d, q]);
    if (p.order === 'random') shuffle(round, seedrandom(`kvbench/docqa-order/${p.seed}/${r}`));
    order.push(...round);
  }
  const at = arrivalTimesMs(order.length, p, p.seed);
  // Closed loop: max_concurrency users, each sending its next request when its previous one
  // completed (request i follows request i − M), so a request's clock starts when its user sends it.
  const users = p.max_concurrency ?? 1;
  const ids: string[] = [];
  order.forEach(([r, d, q], i) => {
    const id = `r${r}-doc${pad(d, wd)}-q${q}`;
    ids.push(id);
    const question = b.segment(`${id}/question`, p.question_tokens);
    const prompt = b.prompt(id, [{ segment: docs[d]! }, { segment: question }]);
    b.request({
      request_id: id,
      prompt,
      release: p.arrival === 'closed' && i >= users ? { type: 'after', request_id: ids[i - users]!, delay_ms: 0 } : { type: 'at', at_ms: at[i]! },
      ...(p.answer_tokens !== undefined ? { output_tokens: p.answer_tokens } : {}),
      tags: { kind: 'docqa', document_id: docs[d]!, round: r },
    });
  });
  return b.build();
}

function shuffle<T>(a: T[], random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}
