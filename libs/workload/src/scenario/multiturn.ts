import seedrandom from 'seedrandom';
import { parseOrThrow, MultiturnParams, ValidationError, type SegmentRef, type ScenarioWorkload } from '@kvbench/common';
import { ScenarioBuilder } from './builder.js';
import { drawLength } from './lengths.js';

export type MultiturnInput = Omit<Partial<MultiturnParams>, 'kind'> & Pick<MultiturnParams, 'sessions' | 'turns' | 'turn_tokens' | 'answer_tokens' | 'active_sessions'>;

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/**
 * Multi-turn sessions (after vLLM's benchmarks/multi_turn and SGLang's bench_multiturn): turn t of
 * a session sends the shared prefix, the session's context, every earlier turn's user tokens and
 * answer, then the new user tokens: P + C + (t−1)(U + A) + U tokens with constant lengths. History
 * answers are canned segments, the same on every system, so both see identical prompts and requests
 * pair; each request generates A tokens. A session's next turn is released when its previous one
 * completed plus the think time. At most K sessions are in flight: sessions run in K lanes, session
 * i starting when session i − K has completed its last turn (a fixed assignment, identical on every
 * system, rather than whichever lane frees first).
 */
export function generateMultiturn(input: MultiturnInput): ScenarioWorkload {
  const p = parseOrThrow(MultiturnParams, { ...input, kind: 'multiturn' }, 'multiturn parameters');
  if (p.token_high <= p.token_low) throw new ValidationError('token_high: must be above token_low', 'token_high');
  const random = seedrandom(`kvbench/multiturn/${p.seed}`);
  const b = new ScenarioBuilder({
    kind: 'multiturn',
    params: p as unknown as Record<string, unknown>,
    max_concurrency: null,
    token_space: { seed: p.seed, low: p.token_low, high: p.token_high },
  });
  const w = String(p.sessions - 1).length;
  const shared = p.shared_prefix_tokens > 0 ? b.segment('shared', p.shared_prefix_tokens) : null;
  const lastTurnOf: string[] = [];
  for (let s = 0; s < p.sessions; s++) {
    const sid = `s${pad(s, w)}`;
    const turns = drawLength(p.turns, random);
    if (turns < 1) throw new ValidationError(`turns: session ${sid} drew ${turns} turns`, 'turns');
    const context = drawLength(p.session_context_tokens, random);
    // Turn 1 holds the shared prefix and the session's context; turn t is turn t − 1 (its prefix)
    // followed by that turn's canned answer and the new user tokens.
    const first: SegmentRef[] = [];
    if (shared) first.push({ segment: shared });
    if (context > 0) first.push({ segment: b.segment(`${sid}/context`, context) });
    let previous: string | null = null;
    for (let t = 1; t <= turns; t++) {
      const user = drawLength(p.turn_tokens, random);
      if (user < 1) throw new ValidationError(`turn_tokens: ${sid} turn ${t} drew ${user} tokens`, 'turn_tokens');
      const userSegment = { segment: b.segment(`${sid}/t${t}/user`, user) };
      const id = `${sid}-t${pad(t, 2)}`;
      const prompt =
        previous === null
          ? b.prompt(id, [...first, userSegment])
          : b.prompt(id, [{ segment: `${sid}/t${t - 1}/answer` }, userSegment], previous);
      const release =
        previous !== null
          ? { type: 'after' as const, request_id: previous, delay_ms: p.think_time_ms }
          : s >= p.active_sessions
            ? { type: 'after' as const, request_id: lastTurnOf[s - p.active_sessions]!, delay_ms: 0 }
            : { type: 'at' as const, at_ms: 0 };
      b.request({ request_id: id, prompt, release, output_tokens: p.answer_tokens, tags: { kind: 'multiturn', session_id: sid, turn: t } });
      b.segment(`${sid}/t${t}/answer`, p.answer_tokens);
      previous = id;
    }
    lastTurnOf.push(previous!);
  }
  return b.build();
}
