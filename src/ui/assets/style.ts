/** The one stylesheet of every page: system fonts only, no external resource. @module */
export const STYLE_CSS = `
:root{--bg:#f6f7f9;--fg:#1b1f24;--muted:#5b6470;--card:#fff;--line:#dde1e6;--accent:#2458d3;--ok:#1a7f37;--bad:#c62828;--warn:#b26b00;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:15px;color:var(--fg);background:var(--bg)}
@media (prefers-color-scheme:dark){:root{--bg:#14171b;--fg:#e6e9ed;--muted:#9aa4af;--card:#1d2126;--line:#323840;--accent:#6d9bff;--ok:#4cc26b;--bad:#ff6b6b;--warn:#e7a33e}}
*{box-sizing:border-box}body{margin:0}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
header.top .brand{font-weight:600;margin-right:auto}header.top a{color:var(--accent);text-decoration:none}
main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.2rem 0 .6rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.75rem}
.metric{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem}
.metric .v{font-size:1.4rem;font-weight:600;overflow-wrap:anywhere}.metric .l{color:var(--muted);font-size:.85rem}
.table-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
td.num,td code{white-space:nowrap}input.narrow{width:5.5em}
th{color:var(--muted);font-weight:500;white-space:nowrap}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85rem;overflow-wrap:anywhere}
nav.tabs{display:flex;flex-wrap:wrap;gap:.25rem;margin-bottom:1rem;border-bottom:1px solid var(--line)}
nav.tabs a{padding:.5rem .8rem;color:var(--muted);text-decoration:none;border-bottom:2px solid transparent}
nav.tabs a[aria-current=page]{color:var(--fg);border-color:var(--accent)}
form.row,.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:.75rem}
input,select,textarea,button{font:inherit;color:inherit;background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.4rem .6rem;max-width:100%}
textarea{width:100%;min-height:10rem;font-family:ui-monospace,monospace;font-size:.85rem}
button{cursor:pointer;background:var(--accent);border-color:var(--accent);color:#fff}button.secondary{background:var(--card);color:var(--fg);border-color:var(--line)}
button.danger{background:var(--bad);border-color:var(--bad)}button:disabled{opacity:.6;cursor:default}
td button{padding:.2rem .5rem;font-size:.85rem}
.status-active{color:var(--ok)}.status-cooling{color:var(--warn)}.status-disabled{color:var(--bad)}
.msg{padding:.6rem .8rem;border-radius:6px;margin:.5rem 0;border:1px solid var(--line);overflow-wrap:anywhere}.msg.error{border-color:var(--bad);color:var(--bad)}.msg.ok{border-color:var(--ok)}
.muted{color:var(--muted)}progress{width:100%;height:1rem}
.secret-once{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}.secret-once code{padding:.4rem;background:var(--bg);border-radius:4px;overflow-wrap:anywhere}
.chart svg{width:100%;height:auto;display:block}.chart .bar-ok{fill:var(--ok)}.chart .bar-bad{fill:var(--bad)}.chart text{fill:var(--muted);font-size:10px}
.chart line{stroke:var(--line)}.chart .bar-tok{fill:var(--accent)}.chart .bar-warn{fill:var(--warn)}.chart .hit{fill:transparent}
.chart polyline{stroke-width:2}.chart .line-p50{stroke:var(--accent)}.chart .line-p95{stroke:var(--warn)}.chart h3{font-size:.95rem;margin:0 0 .4rem}
.grid.wide{grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr))}.grid.wide .card{margin-bottom:0}.chart text{font-size:11px}.legend{font-size:.8rem;color:var(--muted);font-weight:400}
.legend i{display:inline-block;width:.7rem;height:.7rem;margin:0 .2rem 0 .5rem;vertical-align:-1px}
.legend i.bar-ok{background:var(--ok)}.legend i.bar-bad{background:var(--bad)}.legend i.bar-warn{background:var(--warn)}
.legend i.line-p50{background:var(--accent)}.legend i.line-p95{background:var(--warn)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0 0 .8rem}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
.grid.wide{align-items:start}tr.log-row{cursor:pointer}tr.log-detail td{background:var(--bg)}
.login{max-width:420px;margin:3rem auto}.login input{width:100%;margin-bottom:.75rem}.login .row input{width:auto;flex:1;margin-bottom:0}input.days{width:5rem}
.docs details{border-bottom:1px solid var(--line);padding:.4rem 0}.docs summary{cursor:pointer}.method{display:inline-block;min-width:4.2rem;font-weight:600}
.docs pre{background:var(--bg);padding:.6rem;border-radius:6px;overflow-x:auto;font-size:.8rem}
.docs .path{overflow-wrap:anywhere}.docs .op{padding:.2rem 0 .4rem .9rem;min-width:0}.docs p,.docs summary{overflow-wrap:anywhere}.docs .op details{padding:.2rem 0}.docs h4{margin:.8rem 0 .3rem}.docs .resp{margin:.3rem 0}
.tag{display:inline-block;padding:0 .4rem;border-radius:4px;border:1px solid var(--line);font-size:.8rem;color:var(--muted)}
[hidden]{display:none!important}
@media (max-width:600px){main{padding:.6rem}th,td{padding:.35rem}.metric .v{font-size:1.15rem}}
`;
