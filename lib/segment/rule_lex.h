/* Tokens of the rule language (docs/rules.md, "Tokens"), with their line and column. */
#ifndef PERSONA_SEGMENT_RULE_LEX_H
#define PERSONA_SEGMENT_RULE_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "persona/segment.h"

enum {
    T_EOF, T_NUM, T_DUR, T_STR, T_IDENT,
    T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_COMMA, T_DOT, T_COLON, T_ARROW,
    T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
    T_ERROR, /* the lexer failed: message in lexer.error */
    T_SEMI,  /* ';', only with rule_lexer.semicolon (the feature spec, lib/features) */
};

typedef struct token {
    int kind;
    size_t off, len;     /* bytes of the token in the text */
    uint32_t line, col;  /* 1-based */
    double num;          /* T_NUM, T_DUR (ms) */
    uint32_t str_len;    /* T_STR: unescaped bytes in the lexer's buffer */
} token;

typedef struct rule_lexer {
    const char *text;
    size_t len, pos;
    uint32_t line;
    size_t line_start;          /* offset of the current line's first byte */
    char str[PERSONA_RULE_MAX_STRING + 1]; /* the last string token, unescaped, NUL-terminated */
    char error[160];
    int semicolon; /* set after init: ';' is T_SEMI (else an unexpected character) */
} rule_lexer;

void persona__lex_init(rule_lexer *lx, const char *text, size_t len);
/* Next token; T_ERROR with lx->error set and the position in the token. */
void persona__lex_next(rule_lexer *lx, token *t);
/* Whether an identifier token spells word. */
int persona__tok_is(const rule_lexer *lx, const token *t, const char *word);
/* Record PERSONA_EPARSE at a token, the message "line L, column C: MSG" ("line L, column C
 * (segment 'S'): MSG" with a segment name); msg is cut to whole UTF-8 characters first. */
int persona__lex_fail(const token *t, const char *segment, char *msg);
/* A printable quotation of a token for messages ("'and'", "the end of the rule"). */
void persona__tok_describe(const rule_lexer *lx, const token *t, char *out, size_t cap);

#endif
