/** `sluice/sources/sse`: a Server-Sent Events source, resumable by Last-Event-ID. */
export {
  sseSource,
  isUndecodable,
  WIKIMEDIA_RECENTCHANGE_URL,
  DEFAULT_USER_AGENT,
  type SseSourceOptions,
  type SseSourceEvent,
  type SseUndecodable,
} from '../../engine/sources/sse-source.ts';
