/** A self-contained HTML report of one or more overviews: the same charts, no script, no request. */
import { escapeHtml, OVERVIEW_CSS, OVERVIEW_STRINGS, renderOverview } from './charts';
import type { OverviewFigures } from './figures';

export function overviewReport(files: readonly { file: string; figures: OverviewFigures }[]): string {
  const body = files
    .map(
      (f) =>
        `<article class="overview"><h1>${escapeHtml(OVERVIEW_STRINGS.title)}: ${escapeHtml(f.file)}</h1>\n${renderOverview(f.figures)}</article>`,
    )
    .join('\n');
  // The charts' click targets have no editor to filter here: the tables say the same.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(OVERVIEW_STRINGS.title)}</title>
<style>
body { margin: 0; }
.overview .hint { display: none; }
${OVERVIEW_CSS}
</style>
</head>
<body class="report">
${body}
</body>
</html>
`;
}
