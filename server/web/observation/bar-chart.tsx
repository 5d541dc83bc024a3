/**
 * A horizontal bar chart drawn on the server as SVG: no script, no library, readable without
 * colour. Each category's label sits above its bars, each bar carries its value written out, the
 * series differ by pattern (plain, hatched, dotted) as well as by colour and are named in a
 * legend, and a suppressed value ("< 5") draws no bar, only its words. The SVG is an image
 * (`role="img"`) whose <title> and <desc> say what it shows; the page puts the same numbers in
 * a table below it for those who read rather than look.
 */

export interface ChartSeries {
  name: string;
}

export interface ChartCategory {
  label: string;
  /** One value per series: a number, or the suppressed marker. */
  values: (number | string)[];
}

/** Narrow, so that the text stays legible when a phone scales the chart down. */
const WIDTH = 400;
const LABEL_HEIGHT = 22;
const BAR_HEIGHT = 20;
const BAR_GAP = 4;
const GROUP_GAP = 14;
/** Room right of the longest bar for its value ("12 345 678 €"). */
const VALUE_ROOM = 110;
const LEGEND_HEIGHT = 30;

/** Fills and outlines by series: the pattern tells them apart in black and white too. */
const INKS = ['#000091', '#6a6af4', '#3a3a3a'];

function Patterns({ id }: { id: string }) {
  return (
    <defs>
      <pattern id={`${id}-p0`} width="8" height="8" patternUnits="userSpaceOnUse">
        <rect width="8" height="8" fill={INKS[0]} />
      </pattern>
      <pattern
        id={`${id}-p1`}
        width="8"
        height="8"
        patternUnits="userSpaceOnUse"
        patternTransform="rotate(45)"
      >
        <rect width="8" height="8" fill="#ffffff" />
        <rect width="4" height="8" fill={INKS[1]} />
      </pattern>
      <pattern id={`${id}-p2`} width="8" height="8" patternUnits="userSpaceOnUse">
        <rect width="8" height="8" fill="#ffffff" />
        <circle cx="4" cy="4" r="2.5" fill={INKS[2]} />
      </pattern>
    </defs>
  );
}

/** "Nord : 6 personnes repérées, < 5 jointes." for the chart's description. */
export function describeChart(series: ChartSeries[], categories: ChartCategory[]): string {
  if (categories.length === 0) return 'Aucune donnée.';
  return categories
    .map(
      (c) =>
        `${c.label} : ${c.values.map((v, i) => `${series[i].name.toLowerCase()} ${v}`).join(', ')}`,
    )
    .join(' ; ')
    .concat('.');
}

export function BarChart({
  id,
  title,
  series,
  categories,
  unit = '',
}: {
  /** Unique on the page: the ids of the title, description and patterns derive from it. */
  id: string;
  title: string;
  series: ChartSeries[];
  categories: ChartCategory[];
  /** Written after each value ("€"). */
  unit?: string;
}) {
  const numbers = categories.flatMap((c) =>
    c.values.filter((v): v is number => typeof v === 'number'),
  );
  const max = Math.max(1, ...numbers);
  const plot = WIDTH - VALUE_ROOM;
  const groupHeight = LABEL_HEIGHT + series.length * (BAR_HEIGHT + BAR_GAP) + GROUP_GAP;
  const legend = series.length > 1 ? LEGEND_HEIGHT : 0;
  const height = legend + Math.max(1, categories.length) * groupHeight;
  const fmt = new Intl.NumberFormat('fr-FR');
  return (
    <svg
      class="av-chart"
      role="img"
      aria-labelledby={`${id}-title ${id}-desc`}
      viewBox={`0 0 ${WIDTH} ${height}`}
      width="100%"
      preserveAspectRatio="xMinYMin meet"
    >
      <title id={`${id}-title`}>{title}</title>
      <desc id={`${id}-desc`}>{describeChart(series, categories)}</desc>
      <Patterns id={id} />
      {legend
        ? series.map((s, i) => (
            <g transform={`translate(${i * 170}, 4)`}>
              <rect
                width="18"
                height="18"
                fill={`url(#${id}-p${i})`}
                stroke={INKS[i]}
                stroke-width="1"
              />
              <text x="26" y="14" font-size="14" fill="#161616">
                {s.name}
              </text>
            </g>
          ))
        : null}
      {categories.length === 0 ? (
        <text x="0" y={legend + 16} font-size="14" fill="#161616">
          Aucune donnée pour cette période.
        </text>
      ) : null}
      {categories.map((c, k) => {
        const top = legend + k * groupHeight;
        return (
          <g transform={`translate(0, ${top})`}>
            <text x="0" y="15" font-size="14" font-weight="bold" fill="#161616">
              {c.label}
            </text>
            {c.values.map((v, i) => {
              const y = LABEL_HEIGHT + i * (BAR_HEIGHT + BAR_GAP);
              const w = typeof v === 'number' ? Math.max(v > 0 ? 2 : 0, (v / max) * plot) : 0;
              const text = typeof v === 'number' ? `${fmt.format(v)}${unit}` : v;
              return (
                <g>
                  {w > 0 ? (
                    <rect
                      x="0"
                      y={y}
                      width={w}
                      height={BAR_HEIGHT}
                      fill={`url(#${id}-p${i})`}
                      stroke={INKS[i]}
                      stroke-width="1"
                    />
                  ) : null}
                  <text x={w + 6} y={y + 15} font-size="14" fill="#161616">
                    {text}
                  </text>
                </g>
              );
            })}
          </g>
        );
      })}
    </svg>
  );
}
