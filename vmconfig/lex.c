/* vmconfig lexer: splits a line of plain UTF-8 text into a section header,
 * a key and its value, or a comment, and writes values back bare or quoted. */
#include "vmconfig/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void msgf(char *msg, size_t msglen, const char *fmt, const char *arg)
{
	snprintf(msg, msglen, fmt, arg);
}

int vc_check_text(const char *text, size_t len, bool newline_ok, size_t *at, char *msg,
		  size_t msglen)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], n, cp, k;

		if (c == 0) {
			*at = i;
			snprintf(msg, msglen, "NUL byte; a vmconfig is plain UTF-8 text");
			return -EINVAL;
		}
		if (c == '\r') {
			*at = i;
			snprintf(msg, msglen,
				 "carriage return inside a line; end lines with LF or CR LF");
			return -EINVAL;
		}
		if ((c < 0x20 && c != '\t' && !(c == '\n' && newline_ok)) || c == 0x7f) {
			*at = i;
			snprintf(
			    msg, msglen,
			    "control character 0x%02x; a vmconfig is plain text (write \\t or \\n "
			    "inside quotes)",
			    c);
			return -EINVAL;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if (len - i < n)
			goto bad;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n;
	}
	return 0;
bad:
	*at = i;
	snprintf(msg, msglen, "invalid UTF-8; save the file as UTF-8 text");
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_comment(char c)
{
	return c == '#' || c == ';';
}

static size_t skip_space(const char *t, size_t len, size_t i)
{
	while (i < len && is_space(t[i]))
		i++;
	return i;
}

/* A quoted string at t[*pos] == '"': its unescaped contents into *out and
 * *pos past the closing quote. */
static int lex_quoted(const char *t, size_t len, size_t *pos, char **out, size_t *at, char *msg,
		      size_t msglen, const char *what)
{
	size_t open = *pos, i = open + 1, o = 0;
	char *buf = malloc(len - open);

	if (!buf)
		return -ENOMEM;
	while (i < len) {
		char c = t[i];

		if (c == '"') {
			buf[o] = '\0';
			*pos = i + 1;
			*out = buf;
			return 0;
		}
		if (c == '\\') {
			if (i + 1 >= len)
				break;
			switch (t[i + 1]) {
			case '"':
			case '\\':
				buf[o++] = t[i + 1];
				break;
			case 't':
				buf[o++] = '\t';
				break;
			case 'n':
				buf[o++] = '\n';
				break;
			default: {
				char esc[8] = {'\\', t[i + 1]};
				size_t n = 2;

				while (n < 5 && i + n < len &&
				       ((unsigned char)t[i + n] & 0xc0) == 0x80) {
					esc[n] = t[i + n];
					n++;
				}
				free(buf);
				*at = i;
				msgf(msg, msglen,
				     "unknown escape '%s' in quotes; write \\\" \\\\ \\t or \\n "
				     "(\\\\ for a backslash)",
				     esc);
				return -EINVAL;
			}
			}
			i += 2;
			continue;
		}
		buf[o++] = c;
		i++;
	}
	free(buf);
	*at = open;
	msgf(msg, msglen, "unterminated quote; end the %s with '\"'", what);
	return -EINVAL;
}

static char *dup_range(const char *t, size_t from, size_t to)
{
	char *s = malloc(to - from + 1);

	if (s) {
		memcpy(s, t + from, to - from);
		s[to - from] = '\0';
	}
	return s;
}

static int lex_section(struct vc_line *l, size_t i, size_t *at, char *msg, size_t msglen)
{
	const char *t = l->text;
	size_t len = l->len, from;
	char label[160];
	int r;

	l->kind = VC_SECTION;
	l->at = i;
	i = skip_space(t, len, i + 1);
	from = i;
	while (i < len && !is_space(t[i]) && t[i] != '"' && t[i] != ']' && t[i] != '[' &&
	       !is_comment(t[i]))
		i++;
	if (i == from) {
		*at = from;
		snprintf(
		    msg, msglen,
		    "section header without a type; write one such as [vm] or [disk \"NAME\"]");
		return -EINVAL;
	}
	l->type = dup_range(t, from, i);
	if (!l->type)
		return -ENOMEM;
	i = skip_space(t, len, i);
	if (i < len && t[i] == '"') {
		r = lex_quoted(t, len, &i, &l->name, at, msg, msglen, "section name");
		if (r)
			return r;
		i = skip_space(t, len, i);
	}
	if (i >= len || is_comment(t[i])) {
		vc_section_label(l->type, l->name, label, sizeof(label));
		*at = i;
		msgf(msg, msglen, "missing ']' at the end of the section header; write %s", label);
		return -EINVAL;
	}
	if (t[i] != ']') {
		size_t w = i;
		char *word;

		while (w < len && !is_space(t[w]) && t[w] != ']' && t[w] != '"' &&
		       !is_comment(t[w]))
			w++;
		*at = i;
		if (!l->name && w > i) {
			word = dup_range(t, i, w);
			if (!word)
				return -ENOMEM;
			vc_section_label(l->type, word, label, sizeof(label));
			free(word);
			msgf(msg, msglen, "a section name goes in quotes; write %s", label);
		} else {
			vc_section_label(l->type, l->name, label, sizeof(label));
			msgf(msg, msglen, "unexpected text in the section header; write %s", label);
		}
		return -EINVAL;
	}
	i = skip_space(t, len, i + 1);
	if (i < len && !is_comment(t[i])) {
		*at = i;
		snprintf(msg, msglen, "text after the section header; start a comment with '#'");
		return -EINVAL;
	}
	return 0;
}

static int lex_key(struct vc_line *l, size_t i, size_t *at, char *msg, size_t msglen)
{
	const char *t = l->text;
	size_t len = l->len, from = i, end;
	int r;

	l->kind = VC_KEY;
	l->at = i;
	while (i < len && !is_space(t[i]) && t[i] != '=' && t[i] != '"' && t[i] != '[' &&
	       t[i] != ']' && !is_comment(t[i]))
		i++;
	if (i == from) {
		*at = from;
		if (t[i] == '=')
			snprintf(msg, msglen, "'=' without a key before it; write KEY = VALUE");
		else
			snprintf(msg, msglen,
				 "expected a [section] header, KEY = VALUE or a comment ('#')");
		return -EINVAL;
	}
	l->key = dup_range(t, from, i);
	if (!l->key)
		return -ENOMEM;
	i = skip_space(t, len, i);
	if (i >= len || t[i] != '=') {
		*at = i;
		snprintf(msg, msglen, "missing '=' after '%.64s'; write %.64s = VALUE", l->key,
			 l->key);
		return -EINVAL;
	}
	i = skip_space(t, len, i + 1);
	l->value_at = i;
	if (i < len && t[i] == '"') {
		l->quoted = true;
		r = lex_quoted(t, len, &i, &l->value, at, msg, msglen, "value");
		if (r)
			return r;
		l->value_end = i;
		i = skip_space(t, len, i);
		if (i < len && !is_comment(t[i])) {
			*at = i;
			snprintf(msg, msglen,
				 "text after the closing quote; put it inside the quotes or after "
				 "'#'");
			return -EINVAL;
		}
		return 0;
	}
	end = i;
	while (end < len && !is_comment(t[end])) {
		if (t[end] == '"') {
			*at = end;
			snprintf(msg, msglen,
				 "a quote inside an unquoted value; put the whole value in quotes "
				 "and write \\\" for the quote");
			return -EINVAL;
		}
		end++;
	}
	while (end > i && is_space(t[end - 1]))
		end--;
	l->value_end = end;
	l->value = dup_range(t, i, end);
	return l->value ? 0 : -ENOMEM;
}

int vc_lex_line(struct vc_line *line, size_t *at, char *msg, size_t msglen)
{
	size_t i = skip_space(line->text, line->len, 0);

	line->kind = VC_BLANK;
	if (i == line->len)
		return 0;
	if (is_comment(line->text[i])) {
		line->kind = VC_COMMENT;
		return 0;
	}
	if (line->text[i] == '[')
		return lex_section(line, i, at, msg, msglen);
	return lex_key(line, i, at, msg, msglen);
}

bool vc_needs_quotes(const char *value)
{
	/* Spaces inside a bare value read back fine, but quotes show at a
	 * glance where the value ends. */
	if (!value[0])
		return true;
	for (const char *p = value; *p; p++)
		if (*p == '"' || *p == ' ' || is_comment(*p) || (unsigned char)*p < 0x20 ||
		    *p == 0x7f)
			return true;
	return false;
}

char *vc_encode_value(const char *value, bool quoted)
{
	size_t len = strlen(value), o = 0;
	char *s;

	if (!quoted && !vc_needs_quotes(value))
		return strdup(value);
	s = malloc(2 * len + 3);
	if (!s)
		return NULL;
	s[o++] = '"';
	for (const char *p = value; *p; p++) {
		switch (*p) {
		case '"':
		case '\\':
			s[o++] = '\\';
			s[o++] = *p;
			break;
		case '\t':
			s[o++] = '\\';
			s[o++] = 't';
			break;
		case '\n':
			s[o++] = '\\';
			s[o++] = 'n';
			break;
		default:
			s[o++] = *p;
		}
	}
	s[o++] = '"';
	s[o] = '\0';
	return s;
}

void vc_line_clear(struct vc_line *line)
{
	free(line->text);
	free(line->type);
	free(line->name);
	free(line->key);
	free(line->value);
	memset(line, 0, sizeof(*line));
}

size_t vc_value_offset(const struct vc_line *line, size_t off)
{
	size_t i = line->value_at;

	/* Part 0 is the whole value: its token, quote included. */
	if (!line->quoted || off == 0)
		return i + off;
	/* Past the opening quote, an escape is two bytes for one. */
	for (i++; off > 0 && i < line->value_end; off--)
		i += line->text[i] == '\\' ? 2 : 1;
	return i;
}
