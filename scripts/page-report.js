// Reads what scripts/check-pages collected and prints one row per page; exits 1 when any figure
// misses its target (Nu errors 0, axe violations 0, Lighthouse 100 in each category).
'use strict';
const fs = require('fs');
const path = require('path');

const [origin, out, ...pages] = process.argv.slice(2);
const read = (file) => {
  try { return JSON.parse(fs.readFileSync(path.join(out, file), 'utf8')); } catch { return null; }
};

const vnu = read('vnu.json');
const axe = read('axe.json');
const axeDark = read('axe-dark.json');
let failed = false;
const problems = [];
const rows = [];

for (const page of pages) {
  const [name, pagePath, lighthouse] = page.split('|');
  const url = pagePath.startsWith('http') ? pagePath : origin + pagePath;
  const row = { name, path: pagePath };

  if (vnu) {
    const errors = vnu.messages.filter((m) => m.url === url && m.type === 'error');
    row.vnu = errors.length;
    errors.forEach((e) => problems.push(`vnu  ${pagePath}: line ${e.lastLine}: ${e.message}`));
  } else {
    row.vnu = 'no result';
  }

  row.axe = 0;
  for (const [scheme, results] of [['light', axe], ['dark', axeDark]]) {
    const result = results && results.find((r) => r.url === url);
    if (!result) {
      row.axe = 'no result';
      continue;
    }
    if (typeof row.axe === 'number') row.axe += result.violations.length;
    result.violations.forEach((v) => problems.push(`axe (${scheme}) ${pagePath}: ${v.id}: ${v.help} (${v.nodes.length} element(s))`));
  }

  if (lighthouse === 'yes') {
    const report = read(`lighthouse-${name.replace(/[ ,]/g, '-')}.json`);
    for (const category of ['accessibility', 'best-practices', 'seo']) {
      const score = report && report.categories[category] ? Math.round(report.categories[category].score * 100) : 'no result';
      row[category] = score;
      if (report && score !== 100) {
        Object.values(report.audits)
          .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual'
            && report.categories[category].auditRefs.some((ref) => ref.id === a.id && ref.weight > 0))
          .forEach((a) => problems.push(`lighthouse ${pagePath}: ${category}: ${a.id}: ${a.title}`));
      }
    }
  } else {
    row.accessibility = row['best-practices'] = row.seo = '-';
  }

  const ok = row.vnu === 0 && row.axe === 0
    && ['accessibility', 'best-practices', 'seo'].every((c) => row[c] === '-' || row[c] === 100);
  row.result = ok ? 'ok' : 'MISS';
  failed ||= !ok;
  rows.push(row);
}

const columns = [['name', 'page'], ['path', 'path'], ['vnu', 'Nu errors'], ['axe', 'axe violations (light + dark)'],
  ['accessibility', 'LH a11y'], ['best-practices', 'LH best practices'], ['seo', 'LH SEO'], ['result', 'result']];
const widths = columns.map(([key, title]) => Math.max(title.length, ...rows.map((r) => String(r[key]).length)));
const line = (cells) => '| ' + cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ') + ' |';
console.log(line(columns.map(([, title]) => title)));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
rows.forEach((r) => console.log(line(columns.map(([key]) => r[key]))));
if (problems.length) {
  console.log('\nWhat the judges found:');
  problems.forEach((p) => console.log('  ' + p));
}
console.log(failed ? '\nPage checks: some pages miss their targets.' : '\nPage checks: every page meets its targets.');
process.exit(failed ? 1 : 0);
