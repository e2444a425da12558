import type { FC } from 'hono/jsx';

/** Keyset paging: back to the first page when not on it, on to the next one when there is one. */
export const Pager: FC<{ first?: string; next?: string; firstLabel: string; nextLabel: string }> = ({ first, next, firstLabel, nextLabel }) => (
  <p class="pager">
    {first ? <a href={first}>{firstLabel}</a> : null}
    {next ? (
      <a href={next} rel="next">
        {nextLabel}
      </a>
    ) : null}
  </p>
);
