/* ks_esc: text from a file made safe for a terminal.
 *
 * Names, configs and paths come from files anyone can craft: an escape
 * sequence in a layer name could retitle or clear the user's terminal, and
 * a newline could forge an output line. Everything from a file that is shown
 * as text (report tables, error lines, the inspector's screen) goes through
 * this one rule:
 *
 *   - C0 controls and DEL: \n \r \t \e \a \b \f \v, others \xNN;
 *   - bytes that are not UTF-8, C1 controls (U+0080..U+009F, which some
 *     terminals obey) and bidirectional overrides (U+202A..U+202E,
 *     U+2066..U+2069, which reorder what is shown): each byte as \xNN;
 *   - everything else, backslashes included, unchanged (Windows paths read
 *     as they are; the escaped form is for eyes, not for parsing).
 *
 * JSON output needs none of this: jansson escapes control characters.
 */
#ifndef KS_ESC_H
#define KS_ESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How many bytes at s (1..4, a whole character) are shown as they are, or
 * 0 when the byte at s is shown as ks_esc_byte's escape. s is not empty.
 * Drawing code that walks text character by character (the inspector)
 * follows the rule through this. */
int ks_esc_keep(const char *s);

/* True when s holds anything the rule above rewrites. */
bool ks_esc_needed(const char *s);

/* The escaped form of s as a new string (the caller frees it). */
char *ks_esc(const char *s);

/* Writes the escaped form of s into dst (size bytes, always terminated,
 * cut at a whole escape). Returns dst. */
char *ks_esc_into(char *dst, size_t size, const char *s);

/* The escaped form of one byte: "\e", "\x01", ... into out (at least 5
 * bytes). */
const char *ks_esc_byte(unsigned char c, char out[5]);

/* Strings to print: s itself when it needs no escape, else an escaped copy
 * that the pool owns until ks_esc_pool_free. For report code that prints
 * many names with printf-style calls. */
typedef struct ks_esc_pool {
	char **v;
	int n, cap;
} ks_esc_pool;
const char *ks_esc_s(ks_esc_pool *p, const char *s);
void ks_esc_pool_free(ks_esc_pool *p);

#endif
