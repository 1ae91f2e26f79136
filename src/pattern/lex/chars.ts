/**
 * Character classes of the pattern language: what may stand in a bare glob, what starts
 * a name, what counts as space. Shared by the lexer, its scanners and the printer (which
 * must know what reads back unquoted).
 */
import type { GlobKind } from './tokens.js';

const BARE_GLOB_ASCII = /^[A-Za-z0-9_$.*?\-@+!~[\]{},#/^]$/;
export const ID_START = /^[\p{ID_Start}$_]$/u;
export const ID_CONTINUE = /^[\p{ID_Continue}$\u200C\u200D]$/u;
const SPACE = /^\s$/;
export const DIGIT = /^[0-9]$/;
export const HEX = /^[0-9A-Fa-f]$/;
export const LINE_TERMINATOR = /^[\n\r\u2028\u2029]$/;

/** JavaScript's whitespace; printable ASCII other than ' ' is never space, so the regex is skipped for it. */
export function isSpace(char: string): boolean {
  if (char === ' ') return true;
  const code = char.charCodeAt(0);
  return (code < 0x21 || code > 0x7e) && SPACE.test(char);
}

/** A character a bare (unquoted) glob may contain. Non-ASCII letters are welcome; spaces and controls are not. */
export function isBareGlobChar(char: string, kind: GlobKind): boolean {
  if (char.length === 1 && char.charCodeAt(0) < 0x80) return BARE_GLOB_ASCII.test(char) && !(kind === 'function' && char === '/');
  const code = char.codePointAt(0) as number;
  const loneSurrogate = code >= 0xd800 && code <= 0xdfff;
  return code > 0x9f && code !== 0xfeff && !loneSurrogate && !SPACE.test(char);
}

/** True when the printer may write `glob` without quotes and read it back unchanged. */
export function isBareGlob(glob: string, kind: GlobKind): boolean {
  const body = kind === 'module' && glob.startsWith('node:') ? glob.slice(5) : glob;
  if (body.length === 0) return false;
  for (const char of body) if (!isBareGlobChar(char, kind)) return false;
  return true;
}

export function isIdentifierStart(char: string): boolean {
  return ID_START.test(char);
}

/** The character (code point) at `offset`, as a string of one or two code units ('' past the end). */
export function charAt(text: string, offset: number): string {
  const code = text.codePointAt(offset);
  return code === undefined ? '' : String.fromCodePoint(code);
}
