/**
 * Server-Sent Events parsing per the WHATWG HTML specification (section
 * 9.2.6): lines end in CRLF, LF or CR; a blank line dispatches the event;
 * `data:` lines join with "\n"; a leading space after the colon is dropped;
 * lines starting with ":" are comments. Used for recorded captures; the live
 * SSE source (its own issue) streams through the same rules.
 */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export function parseSseText(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (data.length) out.push({ event: event || 'message', data: data.join('\n'), id });
      data = [];
      event = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) id = value;
  }
  if (data.length) out.push({ event: event || 'message', data: data.join('\n'), id });
  return out;
}
