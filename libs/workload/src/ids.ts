/** Stable, readable ids: they pair the same request across systems and appear in reports. */

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `c32768-b3-r07`: context size, batch number within that context, position in the batch. */
export function requestId(context: number, batchInContext: number, position: number): string {
  return `c${context}-b${batchInContext}-r${pad2(position)}`;
}

/** `c32768-p05`: the pool's sixth prompt of context 32768. */
export function poolPromptId(context: number, index: number): string {
  return `c${context}-p${pad2(index)}`;
}

/** `c32768-f03`: the fourth fresh (never-pooled) prompt of context 32768. */
export function freshPromptId(context: number, index: number): string {
  return `c${context}-f${pad2(index)}`;
}

/** `c32768-s03`: the fourth distinct prompt first seen in a context-32768 batch of an imported file. */
export function importedPromptId(context: number, index: number): string {
  return `c${context}-s${pad2(index)}`;
}
