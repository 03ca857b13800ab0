const whitespace = new Set([' ', '\t', '\n', '\r'])

/**
 * The first member name that occurs twice at the top level of a JSON object
 * text, or undefined. JSON.parse silently keeps the last of repeated names,
 * so without this `{"client_id":"a","client_id":"b"}` would slip past the
 * rule that a repeated parameter is `invalid_request` (SPEC §3, RFC 6749
 * §3.2), which the form parser enforces. Names are compared after JSON
 * unescaping (`"client\u005fid"` is `client_id`). Expects text JSON.parse
 * has already accepted.
 */
export function repeatedMember(text: string): string | undefined {
  const names = new Set<string>()
  let depth = 0
  let objectAtTop = false
  let expectName = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '"') {
      let end = i + 1
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      if (depth === 1 && expectName) {
        const name = JSON.parse(text.slice(i, end + 1)) as string
        if (names.has(name)) return name
        names.add(name)
        expectName = false
      }
      i = end
    } else if (c === '{' || c === '[') {
      depth += 1
      if (depth === 1) objectAtTop = c === '{'
      expectName = depth === 1 && objectAtTop
    } else if (c === '}' || c === ']') {
      depth -= 1
    } else if (c === ',' && depth === 1) {
      expectName = objectAtTop
    } else if (!whitespace.has(c)) {
      expectName = false
    }
  }
  return undefined
}
