import type { FC } from 'hono/jsx';

/** A labelled filter select with a first "Tous" choice (no filter); options are [value, label]. */
export const FilterSelect: FC<{
  id: string;
  name: string;
  label: string;
  options: readonly (readonly [string, string])[];
  selected: string | undefined;
}> = ({ id, name, label, options, selected }) => (
  <div>
    <label for={id}>{label}</label>
    <select id={id} name={name}>
      <option value="">Tous</option>
      {options.map(([value, text]) => (
        <option value={value} selected={selected === value}>
          {text}
        </option>
      ))}
    </select>
  </div>
);
