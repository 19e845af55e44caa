/* Editing one line of UTF-8 text: insert, delete, cursor moves and
 * horizontal scrolling by display columns, for the dialogs' text fields. */
#include "console/lineedit.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

size_t utf8_next(const char *s, size_t n, wchar_t *wc)
{
	mbstate_t st;
	size_t r;

	memset(&st, 0, sizeof(st));
	r = mbrtowc(wc, s, n, &st);
	if (r == (size_t)-1 || r == (size_t)-2) {
		*wc = L'?';
		return 1;
	}
	if (r == 0) {
		*wc = 0;
		return 1;
	}
	return r;
}

static int char_width(wchar_t wc)
{
	int w = wcwidth(wc);

	return w < 0 ? 1 : w;
}

int utf8_width(const char *s, size_t n)
{
	int cols = 0;

	while (n && *s) {
		wchar_t wc;
		size_t l = utf8_next(s, n, &wc);

		cols += char_width(wc);
		s += l;
		n -= l;
	}
	return cols;
}

/* The start of the character before byte offset at. */
static size_t prev_char(const char *s, size_t at)
{
	size_t p = at;

	if (!at)
		return 0;
	p--;
	/* Back over continuation bytes, at most 3, to a lead byte that
	 * decodes to a character ending exactly at at. */
	for (size_t back = 0; back < 4 && p <= at; back++) {
		wchar_t wc;

		if ((s[p] & 0xc0) != 0x80 && utf8_next(s + p, at - p, &wc) == at - p)
			return p;
		if (!p)
			break;
		p--;
	}
	return at - 1;
}

void lineedit_init(struct lineedit *e, char *buf, size_t size)
{
	e->buf = buf;
	e->size = size;
	lineedit_reset(e);
}

void lineedit_reset(struct lineedit *e)
{
	if (e->size)
		e->buf[e->size - 1] = 0;
	e->cur = e->size ? strlen(e->buf) : 0;
	e->scroll = 0;
}

bool lineedit_insert(struct lineedit *e, wchar_t wc)
{
	char mb[MB_LEN_MAX];
	mbstate_t st;
	size_t len, n;

	if (!e->size || wc < 32 || wc == 127 || !iswprint((wint_t)wc))
		return false;
	memset(&st, 0, sizeof(st));
	n = wcrtomb(mb, wc, &st);
	if (n == (size_t)-1)
		return false;
	len = strlen(e->buf);
	if (len + n > e->size - 1)
		return false;
	memmove(e->buf + e->cur + n, e->buf + e->cur, len - e->cur + 1);
	memcpy(e->buf + e->cur, mb, n);
	e->cur += n;
	return true;
}

bool lineedit_backspace(struct lineedit *e)
{
	size_t p;

	if (!e->cur)
		return false;
	p = prev_char(e->buf, e->cur);
	memmove(e->buf + p, e->buf + e->cur, strlen(e->buf + e->cur) + 1);
	e->cur = p;
	if (e->scroll > e->cur)
		e->scroll = e->cur;
	return true;
}

bool lineedit_delete(struct lineedit *e)
{
	size_t rest = strlen(e->buf + e->cur), l;
	wchar_t wc;

	if (!rest)
		return false;
	l = utf8_next(e->buf + e->cur, rest, &wc);
	memmove(e->buf + e->cur, e->buf + e->cur + l, rest - l + 1);
	return true;
}

bool lineedit_clear(struct lineedit *e)
{
	bool had = e->size && e->buf[0];

	if (e->size)
		e->buf[0] = 0;
	e->cur = e->scroll = 0;
	return had;
}

void lineedit_left(struct lineedit *e)
{
	e->cur = prev_char(e->buf, e->cur);
}

void lineedit_right(struct lineedit *e)
{
	size_t rest = strlen(e->buf + e->cur);
	wchar_t wc;

	if (rest)
		e->cur += utf8_next(e->buf + e->cur, rest, &wc);
}

void lineedit_home(struct lineedit *e)
{
	e->cur = 0;
}

void lineedit_end(struct lineedit *e)
{
	e->cur = strlen(e->buf);
}

int lineedit_view(struct lineedit *e, int width)
{
	size_t len = strlen(e->buf);

	if (width < 1)
		width = 1;
	if (e->cur > len)
		e->cur = len;
	if (e->scroll > e->cur)
		e->scroll = e->cur;
	/* Keep one column free for the cursor after the last character. */
	while (e->scroll < e->cur && utf8_width(e->buf + e->scroll, e->cur - e->scroll) >= width) {
		wchar_t wc;

		e->scroll += utf8_next(e->buf + e->scroll, len - e->scroll, &wc);
	}
	/* When the text got shorter, show as much of it as fits. */
	while (e->scroll > 0) {
		size_t p = prev_char(e->buf, e->scroll);

		if (utf8_width(e->buf + p, len - p) >= width)
			break;
		e->scroll = p;
	}
	return utf8_width(e->buf + e->scroll, e->cur - e->scroll);
}
