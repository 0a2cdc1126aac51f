import { escapeHtml as esc } from './escape.js';
import type { Scale } from './scale.js';

/** Okabe–Ito palette: distinguishable with common colour-vision deficiencies. Baseline gets the first. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** The original's two systems keep their colours in every report and chart: PCIe blue, C2C vermillion. */
const FIXED_COLORS: Readonly<Record<string, string>> = { pcie: PALETTE[0]!, c2c: PALETTE[1]! };

/**
 * A system's colour, from its label alone (never from its position), so the same system has the
 * same colour in every report, chart and sweep whatever the order or the baseline. A key such as
 * `pcie#2` (a second run of one label) takes its label's colour; other labels hash onto the rest.
 */
export function systemColor(key: string): string {
  const label = /^[a-z0-9_-]+/i.exec(key)?.[0]?.toLowerCase() ?? key;
  const fixed = FIXED_COLORS[label];
  if (fixed) return fixed;
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const rest = PALETTE.slice(2);
  return rest[h % rest.length]!;
}

export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const frame = (width = 560, height = 300, left = 64, bottom = 48): Frame => ({ width, height, left, right: 16, top: 14, bottom });

/** Plot area edges. */
export const plot = (f: Frame) => ({ x0: f.left, x1: f.width - f.right, y0: f.height - f.bottom, y1: f.top });

const r1 = (v: number) => Math.round(v * 10) / 10;

export function svgOpen(f: Frame, title: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${f.width} ${f.height}" width="${f.width}" height="${f.height}" role="img" aria-label="${esc(title)}">`;
}

/** Left axis with grid lines and a rotated label. */
export function yAxis(f: Frame, y: Scale, label: string): string {
  const p = plot(f);
  const parts = [`<g class="axis y-axis">`, `<line x1="${p.x0}" y1="${p.y1}" x2="${p.x0}" y2="${p.y0}" class="axis-line"/>`];
  for (const t of y.ticks) {
    const yy = r1(y(t));
    if (yy < p.y1 - 0.5 || yy > p.y0 + 0.5) continue;
    parts.push(`<line x1="${p.x0}" y1="${yy}" x2="${p.x1}" y2="${yy}" class="grid"/>`);
    parts.push(`<text x="${p.x0 - 6}" y="${yy + 4}" text-anchor="end">${esc(y.format(t))}</text>`);
  }
  const cy = (p.y0 + p.y1) / 2;
  parts.push(`<text class="axis-label" transform="translate(14 ${cy}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`, `</g>`);
  return parts.join('');
}

/** Bottom axis at given tick positions and labels. */
export function xAxis(f: Frame, ticks: { x: number; label: string }[], label: string): string {
  const p = plot(f);
  const parts = [`<g class="axis x-axis">`, `<line x1="${p.x0}" y1="${p.y0}" x2="${p.x1}" y2="${p.y0}" class="axis-line"/>`];
  for (const t of ticks) {
    const xx = r1(t.x);
    parts.push(`<line x1="${xx}" y1="${p.y0}" x2="${xx}" y2="${p.y0 + 5}" class="axis-line"/>`);
    parts.push(`<text x="${xx}" y="${p.y0 + 18}" text-anchor="middle">${esc(t.label)}</text>`);
  }
  parts.push(`<text class="axis-label" x="${(p.x0 + p.x1) / 2}" y="${f.height - 6}" text-anchor="middle">${esc(label)}</text>`, `</g>`);
  return parts.join('');
}

/** Ticks of a numeric scale for xAxis(). */
export const scaleTicks = (x: Scale) => x.ticks.map((t) => ({ x: x(t), label: x.format(t) }));

export function circle(cx: number, cy: number, r: number, color: string, opts: { hollow?: boolean; title?: string; cls?: string } = {}): string {
  const fill = opts.hollow ? `fill="white" fill-opacity="0.6" stroke="${color}"` : `fill="${color}" fill-opacity="0.6" stroke="${color}"`;
  const title = opts.title ? `<title>${esc(opts.title)}</title>` : '';
  return `<circle class="mark ${opts.cls ?? ''}" cx="${r1(cx)}" cy="${r1(cy)}" r="${r}" ${fill} stroke-width="1">${title}</circle>`;
}

/** HTML legend: colour swatches (from the palette, never from data) with escaped names. */
export function legend(items: { color: string; label: string; shape?: 'filled' | 'hollow' | 'line' | 'dashed' | 'dotted' }[]): string {
  const sw = (i: (typeof items)[number]) => {
    switch (i.shape) {
      case 'hollow':
        return `<span class="sw round" style="border:2px solid ${i.color};background:#fff"></span>`;
      case 'line':
        return `<span class="sw line" style="border-top:3px solid ${i.color}"></span>`;
      case 'dashed':
        return `<span class="sw line" style="border-top:3px dashed ${i.color}"></span>`;
      case 'dotted':
        return `<span class="sw line" style="border-top:3px dotted ${i.color}"></span>`;
      case 'filled':
        return `<span class="sw round" style="background:${i.color}"></span>`;
      default:
        return `<span class="sw" style="background:${i.color}"></span>`;
    }
  };
  return `<div class="legend">${items.map((i) => `<span class="item">${sw(i)}${esc(i.label)}</span>`).join('')}</div>`;
}
