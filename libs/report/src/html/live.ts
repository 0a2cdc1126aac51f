import { escapeHtml as esc, jsonForScript } from './escape.js';
import { LIVE_SCRIPT } from './live-script.js';

export interface LivePageOptions {
  runId: string;
  /** The SSE endpoint, relative to the page (default `events`, i.e. /runs/:id/events from /runs/:id/live). */
  eventsUrl?: string;
  /** CSP nonce of the inline script (the route sets the matching header). */
  nonce?: string;
}

const LIVE_STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1a1a1a;background:#fafafa}
main{max-width:1320px;margin:0 auto;padding:12px 24px 40px}
h1{font-size:20px;margin:6px 0 2px}.sub{color:#555;margin:0 0 10px}
.banner{background:#b00020;color:#fff;font-weight:700;padding:8px 16px}
.stats{display:flex;flex-wrap:wrap;gap:18px;align-items:center;background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:8px 12px}
.stats b{font-size:16px}progress{width:260px;height:14px}
.grid{display:flex;flex-wrap:wrap;gap:16px;margin-top:14px}
figure{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:10px 12px;margin:0}
h3{font-size:14px;margin:0 0 4px}
svg{display:block;font-size:11px;fill:#333}svg text.axis-label{font-size:12px;font-weight:600;fill:#222}
.legend{font-size:12px;display:flex;gap:14px;margin-bottom:4px}.sw{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:4px;vertical-align:-1px}
table{border-collapse:collapse;background:#fff;font-size:12.5px;margin-top:14px}th,td{border:1px solid #e2e2e2;padding:3px 8px;text-align:right}th{background:#f0f0f0}
`;

/** The live page of one run: progress, running TTFT percentiles, and samples plotted as they arrive. */
export function renderLivePage(opts: LivePageOptions): string {
  const cfg = { runId: opts.runId, eventsUrl: opts.eventsUrl ?? 'events' };
  const nonce = opts.nonce ? ` nonce="${esc(opts.nonce)}"` : '';
  const legend = `<div class="legend"><span><span class="sw" style="background:#0072B2"></span>reuse</span><span><span class="sw" style="border:2px solid #D55E00;background:#fff"></span>cold</span></div>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>kvbench live: ${esc(opts.runId)}</title><style>${LIVE_STYLE}</style></head>
<body>
<div class="banner" id="simulated" hidden>SIMULATED: this run uses the kvbench engine simulator, not real hardware.</div>
<main>
<h1>Run ${esc(opts.runId)} <small>live</small></h1>
<p class="sub" id="who"></p>
<div class="stats">
<span>status <b id="status">connecting</b></span>
<progress id="progress"></progress>
<span><b id="done">0 requests</b></span>
<span>TTFT p50 <b id="p50">-</b></span>
<span>p95 <b id="p95">-</b></span>
<span>failed <b id="failed">0</b></span>
<span>ETA <b id="eta">-</b></span>
</div>
<div class="grid">
<figure data-chart="timeline"><h3>TTFT over the run</h3>${legend}<svg id="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 320" width="600" height="320" role="img" aria-label="TTFT against scheduled time"></svg></figure>
<figure data-chart="by-context"><h3>TTFT by context size</h3>${legend}<svg id="by-context" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 320" width="600" height="320" role="img" aria-label="TTFT by context size"></svg></figure>
</div>
<table><thead><tr><th>context</th><th>phase</th><th>n</th><th>TTFT p50</th><th>TTFT p95</th></tr></thead><tbody id="stats"></tbody></table>
</main>
<script type="application/json" id="live-config">${jsonForScript(cfg)}</script>
<script${nonce}>${LIVE_SCRIPT}</script>
</body></html>
`;
}
