import { AppError } from '../../errors/index.js';

/** A refusal naming the body as the field that could not be read. */
const unreadableBody = (why: string) =>
  new AppError('VALIDATION_FAILED', `The request body could not be read (${why}).`, { fields: [{ field: 'body', message: why }] });

/**
 * body-parser's errors, turned into our codes (bodyParserStep passes each on as this). Its error
 * types are mapped one by one; any other error it raises as the caller's fault (a 4xx it exposes: a compressed body that does not
 * decompress, wrapped from zlib with no type) is a body that could not be read (400), or an
 * encoding not accepted (415), never an internal error: the caller gets the problem, the audit a
 * rejection, and the logs and the 5xx alert nothing.
 */
export function fromBodyParser(error: { type?: unknown; status?: unknown; expose?: unknown }): AppError | null {
  switch (error.type) {
    case 'entity.parse.failed':
      return new AppError('INVALID_JSON', 'The request body is not valid JSON (only an object or array is accepted).');
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is larger than this endpoint accepts.');
    case 'encoding.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The request body\'s Content-Encoding is not accepted (identity, gzip, deflate or br).');
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The request body must be UTF-8.');
    case 'parameters.too.many':
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return new AppError('VALIDATION_FAILED', 'The request body could not be read.');
  }
  if (error.expose !== true || typeof error.status !== 'number' || error.status < 400 || error.status > 499) return null;
  if (error.status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'The request body\'s encoding is not accepted.');
  return unreadableBody('it does not decode as its Content-Encoding says');
}
