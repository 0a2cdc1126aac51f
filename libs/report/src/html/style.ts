/** The report's only stylesheet, inlined: system fonts, no external resources. */
export const STYLE = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1a1a1a;background:#fafafa}
main{max-width:1280px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:0 0 4px}
.banner{background:#b00020;color:#fff;font-weight:700;padding:10px 16px;font-size:16px;letter-spacing:.02em}
.sub{color:#555;margin:0 0 8px}
.grid{display:flex;flex-wrap:wrap;gap:16px}
figure.chart{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:10px 12px;margin:0}
figcaption{color:#555;font-size:12px;max-width:540px;margin-top:4px}
svg{display:block;font-size:11px;fill:#333}
svg text.axis-label{font-size:12px;fill:#222;font-weight:600}
svg .axis-line{stroke:#666}svg line.grid{stroke:#eee}
svg text.missing{fill:#b00020;font-size:12px}svg text.small{font-size:10px}
svg text.value{font-size:11px;fill:#222}
.legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px;margin:2px 0 4px}
.legend .item{display:inline-flex;align-items:center;gap:5px}
.sw{display:inline-block;width:12px;height:12px}.sw.round{border-radius:50%}.sw.line{width:22px;height:0}
table{border-collapse:collapse;background:#fff;font-size:12.5px}
th,td{border:1px solid #e2e2e2;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f0f0f0}th[colspan]{text-align:center}td.l,th.l{text-align:left}
td.sig{font-weight:700}td.better{color:#006d2c}td.worse{color:#b00020}
tr.row-start td{border-top:2px solid #bbb}
ul.verdicts li{margin:2px 0}
.scroll{overflow-x:auto;max-width:100%}
/* Nothing wider than the page at 1400 px or a phone's 390 px: wide tables scroll inside their own box, charts shrink. */
table:not(.settings){display:block;overflow-x:auto;max-width:100%}
svg{max-width:100%;height:auto}
.grid>*{min-width:0;max-width:100%}
details.settings-rest>summary{cursor:pointer;margin:8px 0;color:#333}
@media (max-width:640px){main{padding:8px 10px 32px}th,td{padding:2px 4px}h1{font-size:19px}}
.meta{display:flex;flex-wrap:wrap;gap:16px}.meta section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;padding:8px 12px;flex:1 1 360px;min-width:0}
pre{white-space:pre-wrap;word-break:break-word;font-size:12px;background:#f6f6f6;padding:6px;margin:4px 0}
.note{color:#8a4b00}
table.settings{table-layout:fixed;width:100%;max-width:100%}
table.settings th,table.settings td{white-space:normal;overflow-wrap:anywhere;word-break:break-word;vertical-align:top}
table.settings th.setting{font-weight:600;background:#f7f7f7}
table.settings tr.differs td,table.settings tr.differs th{background:#fff3c4}
table.settings tr.identity td{color:#777}
table.settings td.absent{color:#999;font-style:italic}
.mark-differs{color:#b00020;font-weight:700}
details.raw pre,.meta pre{max-height:480px;overflow:auto}
ul.hit-notes{margin:6px 0 0;padding-left:18px;font-size:12px;max-width:640px}ul.hit-notes li.flag{color:#b00020;font-weight:600}
svg text.phase{font-size:12px;fill:#222}
`;
