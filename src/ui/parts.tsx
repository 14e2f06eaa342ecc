/** Small pieces the pages share. @module */
import type { Child } from "hono/jsx";

/** A table whose body the page script fills (`body` is the tbody's id); `num` columns align right. */
export const Table = (p: { head: string[]; body: string; num?: number[] }): Child => (
  <div class="table-wrap">
    <table>
      <thead>
        <tr>{p.head.map((h, i) => <th class={p.num?.includes(i) ? "num" : undefined}>{h}</th>)}</tr>
      </thead>
      <tbody id={p.body}></tbody>
    </table>
  </div>
);

/** Previous / Next buttons and a status line, ids `<id>-prev`, `<id>-next`, `<id>-info`. */
export const Pager = (p: { id: string }): Child => (
  <div class="row">
    <button id={`${p.id}-prev`} class="secondary" type="button">Previous</button>
    <button id={`${p.id}-next`} class="secondary" type="button">Next</button>
    <span id={`${p.id}-info`} class="muted"></span>
  </div>
);
