/** `sluice/sources/http-poll`: a source that polls a JSON HTTP API, with backoff and a resumable position. */
export {
  httpPollSource,
  OversizeRecord,
  type HttpPollOptions,
  type PollRequest,
  type PollSnapshot,
} from '../../engine/sources/http-poll.ts';
