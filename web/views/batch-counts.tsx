import type { FC } from 'hono/jsx';
import type { Batch } from '../../src/db/database.ts';
import { OUTCOMES } from '../../src/domain/types.ts';
import { OUTCOME_PLURAL, formatNumber } from './format.ts';

/** The counts of a batch; once it has ended each count links to its rows. */
export const CountsTable: FC<{ batch: Batch; linkable: boolean }> = ({ batch: b, linkable }) => (
  <table class="counts">
    <caption class="sr-only">Résultats du lot</caption>
    <thead>
      <tr>
        <th scope="col">Lignes</th>
        {OUTCOMES.map((o) => (
          <th scope="col">{OUTCOME_PLURAL[o]}</th>
        ))}
      </tr>
    </thead>
    <tbody>
      <tr>
        <td class="num">{formatNumber(b.total)}</td>
        {OUTCOMES.map((o) => (
          <td class={`num outcome-count-${o}`}>
            {linkable && b[o] > 0 ? <a href={`/batches/${b.id}?outcome=${o}#rows-section`}>{formatNumber(b[o])}</a> : formatNumber(b[o])}
          </td>
        ))}
      </tr>
    </tbody>
  </table>
);
