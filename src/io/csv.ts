// One line of a CSV file split into trimmed fields, with RFC 4180 quoting ("a,b" keeps its comma, "" inside
// quotes is a literal quote). Both label readers (manifest labels and downstream labels) use it, so a file
// that one accepts the other reads the same way.

/** The fields of `line`, or null when a quote is never closed. */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim().length === 0) quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) return null;
  fields.push(field);
  return fields.map((f) => f.trim());
}
