/** The tokens the lexer hands the parser, and the punctuators of the expression world. */

export type Punctuator =
  | ':'
  | '('
  | ')'
  | '['
  | ']'
  | '{'
  | '}'
  | ','
  | '|'
  | '.'
  | '...'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '&&'
  | '||'
  | '!'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '~'
  | '->';

export interface Span {
  /** UTF-16 offset of the first character. */
  start: number;
  /** UTF-16 offset just past the last character. */
  end: number;
}

export type Token = Span &
  (
    | { kind: 'glob'; value: string; quoted: boolean }
    | { kind: 'ident'; value: string }
    | { kind: 'number'; value: number }
    | { kind: 'bigint'; value: string }
    | { kind: 'string'; value: string }
    | { kind: 'regex'; source: string; flags: string }
    | { kind: 'punct'; value: Punctuator }
    | { kind: 'invalid'; value: string }
    | { kind: 'eof' }
  );

export type GlobKind = 'module' | 'function';

export const PUNCTUATORS: readonly Punctuator[] = [
  '...',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '->',
  ':',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '|',
  '.',
  '<',
  '>',
  '!',
  '+',
  '-',
  '*',
  '/',
  '%',
  '~',
];

/** Whether `token` ends a value, so that a following '/' divides rather than opens a regex. */
export function endsValue(token: Token): boolean {
  switch (token.kind) {
    case 'ident':
      return token.value !== 'in' && token.value !== 'when';
    case 'punct':
      return token.value === ')' || token.value === ']' || token.value === '}';
    case 'number':
    case 'bigint':
    case 'string':
    case 'regex':
    case 'glob':
      return true;
    default:
      return false;
  }
}
